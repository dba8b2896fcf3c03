/** The ports inside the sink namespace that the redirected traffic lands on. */
export interface SinkPorts {
  /** UDP and TCP port 53 to any address lands here (the fake DNS server). */
  dns: number;
  /** Every other TCP flow lands here (the catch-all; read the original destination from conntrack). */
  tcp: number;
  /** Every other UDP datagram lands here. */
  udp: number;
}

export const DEFAULT_SINK_PORTS: Readonly<SinkPorts> = Object.freeze({ dns: 53, tcp: 9999, udp: 9998 });

export type FirewallBackend = 'nft' | 'iptables';

/** Our own nftables table in the sink namespace (family ip). */
export const NFT_TABLE = 'detonate_sink';

/**
 * nftables ruleset for the sink namespace: DNAT everything arriving from the sample to local ports, and drop
 * anything that would be forwarded (forwarding is off too; this is the second lock).
 */
export function nftRuleset(iface: string, ports: SinkPorts): string {
  return `table ip ${NFT_TABLE} {
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    iifname "${iface}" udp dport 53 redirect to :${ports.dns}
    iifname "${iface}" tcp dport 53 redirect to :${ports.dns}
    iifname "${iface}" meta l4proto tcp redirect to :${ports.tcp}
    iifname "${iface}" meta l4proto udp redirect to :${ports.udp}
  }
  chain forward {
    type filter hook forward priority filter; policy drop;
  }
}
`;
}

/** The same rules for iptables-restore, for hosts that have iptables (nft or legacy backend) but not nft. */
export function iptablesRuleset(iface: string, ports: SinkPorts): string {
  return `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -i ${iface} -p udp --dport 53 -j REDIRECT --to-ports ${ports.dns}
-A PREROUTING -i ${iface} -p tcp --dport 53 -j REDIRECT --to-ports ${ports.dns}
-A PREROUTING -i ${iface} -p tcp -j REDIRECT --to-ports ${ports.tcp}
-A PREROUTING -i ${iface} -p udp -j REDIRECT --to-ports ${ports.udp}
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
COMMIT
`;
}

export function validatePorts(ports: Partial<SinkPorts> | undefined): SinkPorts {
  const merged = { ...DEFAULT_SINK_PORTS, ...ports };
  for (const [name, value] of Object.entries(merged)) {
    if (!Number.isInteger(value) || value < 1 || value > 65535) {
      throw new RangeError(`port ${name} must be an integer from 1 to 65535, got ${String(value)}`);
    }
  }
  return merged;
}
