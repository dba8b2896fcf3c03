/** Stratum JSON-RPC (XMRig's `login` dialect and Bitcoin-style `mining.*`): what to record and what to answer. */
import { randomBytes } from 'node:crypto';
import type { StratumDetails } from './events.js';
import { MAX_STRATUM_ALGO_CHARS, MAX_STRATUM_ALGOS, MAX_STRATUM_METHOD_CHARS, MAX_STRATUM_METHODS, MAX_STRATUM_STRING_CHARS } from './limits.js';

const STRATUM_METHOD = /^(login|getjob|submit|keepalived|mining\.[a-z_.]+|eth_[A-Za-z]+)$/;

export function isStratumMethod(m: string): boolean {
  return STRATUM_METHOD.test(m);
}

export function newStratumDetails(): StratumDetails {
  return { methods: [], wallet: null, password: null, agent: null, algo: [], rigId: null, jobSent: false };
}

const str = (v: unknown, max = MAX_STRATUM_STRING_CHARS): string | null => (typeof v === 'string' ? v.slice(0, max) : null);

/** A Monero-style job that XMRig accepts: a 76-byte hashing blob, a compact target, a RandomX seed. */
function moneroJob(algo: string): Record<string, unknown> {
  return {
    blob: '1010' + randomBytes(74).toString('hex'),
    job_id: randomBytes(8).toString('hex'),
    target: 'b88d0600',
    algo,
    height: 3100000,
    seed_hash: randomBytes(32).toString('hex'),
  };
}

/**
 * Handles one JSON-RPC line: updates `d` and returns the lines to send back (each without newline).
 * A line that is not a JSON object with a string `method` returns null.
 */
export function stratumReply(line: string, d: StratumDetails): string[] | null {
  let msg: unknown;
  try {
    msg = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return null;
  const m = msg as Record<string, unknown>;
  const method = str(m.method, MAX_STRATUM_METHOD_CHARS);
  if (method === null) return null;
  const id = typeof m.id === 'number' || typeof m.id === 'string' ? m.id : null;
  if (d.methods.length < MAX_STRATUM_METHODS) d.methods.push(method);
  const params = m.params;
  const arr = Array.isArray(params) ? (params as unknown[]) : [];
  const obj = typeof params === 'object' && params !== null && !Array.isArray(params) ? (params as Record<string, unknown>) : {};
  const reply = (result: unknown): string => JSON.stringify({ id, jsonrpc: '2.0', error: null, result });
  switch (method) {
    case 'login': {
      d.wallet ??= str(obj.login);
      d.password ??= str(obj.pass);
      d.agent ??= str(obj.agent);
      d.rigId ??= str(obj.rigid);
      const algos = Array.isArray(obj.algo) ? obj.algo : typeof obj.algo === 'string' ? [obj.algo] : [];
      for (const a of algos) if (typeof a === 'string' && d.algo.length < MAX_STRATUM_ALGOS && !d.algo.includes(a)) d.algo.push(a.slice(0, MAX_STRATUM_ALGO_CHARS));
      d.jobSent = true;
      return [
        reply({
          id: randomBytes(8).toString('hex'),
          job: moneroJob(d.algo[0] ?? 'rx/0'),
          extensions: ['algo', 'nicehash', 'connect', 'tls', 'keepalive'],
          status: 'OK',
        }),
      ];
    }
    case 'getjob':
      d.jobSent = true;
      return [reply(moneroJob(d.algo[0] ?? 'rx/0'))];
    case 'submit':
      return [reply({ status: 'OK' })];
    case 'keepalived':
      return [reply({ status: 'KEEPALIVED' })];
    case 'mining.subscribe':
      d.agent ??= str(arr[0]);
      return [JSON.stringify({ id, result: [[['mining.set_difficulty', '1'], ['mining.notify', '1']], '08000002', 4], error: null })];
    case 'mining.authorize':
    case 'eth_submitLogin':
      d.wallet ??= str(arr[0]);
      d.password ??= str(arr[1]);
      if (method === 'eth_submitLogin') return [JSON.stringify({ id, jsonrpc: '2.0', result: true })];
      d.jobSent = true;
      return [
        JSON.stringify({ id, result: true, error: null }),
        JSON.stringify({ id: null, method: 'mining.set_difficulty', params: [1] }),
        JSON.stringify({
          id: null,
          method: 'mining.notify',
          params: [
            randomBytes(4).toString('hex'),
            randomBytes(32).toString('hex'),
            '01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff20',
            'ffffffff0100f2052a010000001976a914000000000000000000000000000000000000000088ac00000000',
            [],
            '20000000',
            '1d00ffff',
            Math.floor(Date.now() / 1000).toString(16),
            true,
          ],
        }),
      ];
    case 'mining.configure':
      return [JSON.stringify({ id, result: { 'version-rolling': false }, error: null })];
    case 'eth_getWork':
      return [JSON.stringify({ id, jsonrpc: '2.0', result: ['0x' + randomBytes(32).toString('hex'), '0x' + randomBytes(32).toString('hex'), '0x' + '00'.repeat(4) + 'ff'.repeat(28)] })];
    default:
      return [JSON.stringify({ id, result: true, error: null })];
  }
}
