import { dataFileDigest } from '../../config/paths.js';
import type { Finding } from '../../model/index.js';
import type { ImageCheck } from '../image-check.js';
import { printable } from '../threats/evidence.js';
import { configRules } from './rules.js';
import { MAX_EXPANDED_PORT_RANGE } from '../limits.js';

/** `misconfiguration/sensitive-port`: the config exposes a port of a remote shell, desktop, Docker API or database. */
export const sensitivePortCheck: ImageCheck = {
  name: 'sensitive-port',
  version: 1,
  get configKey(): string {
    return dataFileDigest('config.yaml');
  },
  check(facts) {
    const { sensitivePorts } = configRules();
    const findings: Finding[] = [];
    const seen = new Set<string>();
    for (const raw of facts.config.exposedPorts) {
      const m = /^\s*(\d{1,5})(?:-(\d{1,5}))?(?:\/(tcp|udp|sctp))?\s*$/i.exec(raw);
      if (!m) continue;
      const first = Number(m[1]);
      const last = m[2] ? Number(m[2]) : first;
      const protocol = (m[3] ?? 'tcp').toLowerCase();
      if (last < first || last - first > MAX_EXPANDED_PORT_RANGE) continue;
      for (let port = first; port <= last; port++) {
        const key = `${port}/${protocol}`;
        const known = sensitivePorts.get(key);
        if (!known || seen.has(key)) continue;
        seen.add(key);
        findings.push({
          category: 'misconfiguration',
          severity: known.severity,
          title: `Image exposes ${known.service} port ${key}`,
          source: 'static',
          rule: 'misconfiguration/sensitive-port',
          evidence: { port, protocol, service: known.service, exposed: printable(raw, 32) },
        });
      }
    }
    return { findings };
  },
};
