#!/bin/sh
# Detonate's demo image. It only PRETENDS to be a cryptominer, so that a first scan has something to show:
# it looks up a pool under the reserved .test domain, logs in over stratum to 192.0.2.10 (TEST-NET-1,
# an address reserved for documentation that no real host has) and keeps one core busy for a few seconds.
# Inside Detonate's sandbox both land on the sinkhole; it mines nothing and contacts nobody.
POOL=stratum+tcp://pool.example.test:3333
WALLET=44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A
echo "demo miner: pool $POOL"
nslookup pool.example.test > /dev/null 2>&1
timeout 4 sh -c 'while :; do :; done' &
printf '%s\n' "{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"login\",\"params\":{\"login\":\"$WALLET\",\"pass\":\"x\",\"agent\":\"XMRig/6.21.0 (Linux x86_64) libuv/1.44.2 gcc/12.2.0\",\"algo\":[\"rx/0\"]}}" \
  | nc -w 3 192.0.2.10 3333 > /tmp/job
grep -q '"job"' /tmp/job && echo "demo miner: the sinkhole handed out a job"
wait
echo "demo miner: done (nothing was mined)"
