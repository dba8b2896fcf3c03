/**
 * Turns one decoded syscall (name, argument texts, result) into TraceEvents. The argument texts differ between
 * strace and gVisor only in how a path, an fd and an address are written, so each parser passes an `ArgReader`.
 */
import type { TraceEvent } from './events.js';
import { MAX_OPEN_FLAGS, type ParseLimits } from './limits.js';
import { parseIntLoose, parseMode, parseStringList, resolvePath, signalName } from './text.js';

export interface Call {
  pid: number;
  tMs: number;
  name: string;
  args: string[];
  /** Return value; null when unknown (`?`, or no result line). */
  ret: number | null;
  errno?: string;
  /** strace --pidns-translation: the return value as a pid in the tracer's namespace. */
  retPid?: number;
  /** The call has a result (success or failure); false for an entry line alone. */
  finished: boolean;
}

export interface FdInfo {
  fd: number | null;
  /** The fd's path or description (`/tmp/x`, `TCP:[123]`, `socket:[1]`, `pipe:[7]`), when the tracer prints it. */
  path?: string;
}

export interface Sockaddr {
  family: 'inet' | 'inet6' | 'unix' | 'other';
  address: string;
  port: number | null;
}

export interface ArgReader {
  path(arg: string): string | null;
  fd(arg: string): FdInfo;
  /** A pid argument (kill's target), translated to the tracer's namespace when the tracer says how. */
  pid(arg: string): number | null;
  sockaddr(arg: string): Sockaddr | null;
}

function fail(call: Call): { ok?: boolean; errno?: string } {
  if (call.errno !== undefined) return { ok: false, errno: call.errno };
  if (!call.finished || call.ret === null) return {};
  return { ok: call.ret >= 0 };
}

function socketProto(path: string | undefined): 'tcp' | 'udp' | undefined {
  if (!path) return undefined;
  if (/^TCP/.test(path)) return 'tcp';
  if (/^UDP/.test(path)) return 'udp';
  return undefined;
}

export function callToEvents(call: Call, r: ArgReader, limits: ParseLimits): TraceEvent[] {
  const { pid, tMs, args } = call;
  const base = { pid, tMs, ...fail(call) };
  const a = (i: number): string => args[i] ?? '';
  switch (call.name) {
    case 'execve':
    case 'execveat': {
      const at = call.name === 'execveat';
      let exe = r.path(a(at ? 1 : 0));
      if (at) {
        const dir = r.fd(a(0)).path;
        if ((exe === null || exe === '') && dir) exe = dir;
        else if (exe !== null) exe = resolvePath(dir, exe);
      }
      const list = parseStringList(a(at ? 2 : 1), limits.maxArgv, limits.maxStringChars);
      if (exe === null) return [];
      return [{ kind: 'exec', ...base, exe, argv: list?.items ?? [], argvTruncated: list?.truncated ?? true }];
    }
    case 'clone':
    case 'clone3':
    case 'fork':
    case 'vfork': {
      const child = call.retPid ?? call.ret;
      if (child === null || child <= 0) return [];
      const thread = call.name.startsWith('clone') && args.join(',').includes('CLONE_THREAD');
      return [{ kind: 'fork', pid, tMs, ok: true, child, thread }];
    }
    case 'exit_group': {
      const code = parseIntLoose(a(0));
      return [{ kind: 'exit', pid, tMs, code: code === null ? null : code & 0xff }];
    }
    case 'open':
    case 'openat':
    case 'creat': {
      const at = call.name === 'openat';
      const raw = r.path(a(at ? 1 : 0));
      if (raw === null) return [];
      const path = at ? resolvePath(r.fd(a(0)).path, raw) : raw;
      const flags = call.name === 'creat' ? ['O_CREAT', 'O_WRONLY', 'O_TRUNC'] : a(at ? 2 : 1).split('|').map((f) => f.trim());
      const modeArg = call.name === 'creat' ? a(1) : a(at ? 3 : 2);
      const mode = modeArg ? parseMode(modeArg) : null;
      return [{ kind: 'open', ...base, path, flags: flags.filter((f) => f.length > 0).slice(0, MAX_OPEN_FLAGS), ...(mode === null ? {} : { mode }) }];
    }
    case 'write': {
      const fd = r.fd(a(0));
      if (!fd.path) return [];
      return [{ kind: 'write', ...base, path: fd.path }];
    }
    case 'unlink':
    case 'unlinkat': {
      const at = call.name === 'unlinkat';
      const raw = r.path(a(at ? 1 : 0));
      if (raw === null) return [];
      const path = at ? resolvePath(r.fd(a(0)).path, raw) : raw;
      return [{ kind: 'unlink', ...base, path, directory: at && a(2).includes('AT_REMOVEDIR') }];
    }
    case 'rename':
    case 'renameat':
    case 'renameat2': {
      const at = call.name !== 'rename';
      const from = r.path(a(at ? 1 : 0));
      const to = r.path(a(at ? 3 : 1));
      if (from === null || to === null) return [];
      return [{
        kind: 'rename', ...base,
        from: at ? resolvePath(r.fd(a(0)).path, from) : from,
        to: at ? resolvePath(r.fd(a(2)).path, to) : to,
      }];
    }
    case 'chmod':
    case 'fchmod':
    case 'fchmodat': {
      let path: string | null;
      if (call.name === 'fchmod') path = r.fd(a(0)).path ?? null;
      else if (call.name === 'fchmodat') {
        const raw = r.path(a(1));
        path = raw === null ? null : resolvePath(r.fd(a(0)).path, raw);
      } else path = r.path(a(0));
      const mode = parseMode(a(call.name === 'chmod' ? 1 : call.name === 'fchmod' ? 1 : 2));
      if (path === null || mode === null) return [];
      return [{ kind: 'chmod', ...base, path, mode }];
    }
    case 'socket': {
      const type = a(1);
      const proto = /SOCK_STREAM/.test(type) ? 'tcp' : /SOCK_DGRAM/.test(type) ? 'udp' : /SOCK_RAW/.test(type) ? 'raw' : 'other';
      if (call.ret === null || call.ret < 0) return [];
      return [{ kind: 'socket', ...base, fd: call.ret, proto }];
    }
    case 'connect':
    case 'sendto': {
      const addrArg = call.name === 'connect' ? a(1) : a(4);
      const sa = r.sockaddr(addrArg);
      if (!sa) return [];
      const fd = r.fd(a(0));
      const proto = socketProto(fd.path);
      return [{
        kind: 'connect', ...base, via: call.name, fd: fd.fd ?? -1, family: sa.family, address: sa.address, port: sa.port,
        ...(proto ? { proto } : {}),
      }];
    }
    case 'kill':
    case 'tgkill': {
      const target = r.pid(a(0));
      if (target === null) return [];
      return [{ kind: 'kill', ...base, target, signal: signalName(a(call.name === 'kill' ? 1 : 2)) }];
    }
    default:
      return [];
  }
}
