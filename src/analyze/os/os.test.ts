import { describe, expect, it } from 'vitest';
import { analyzeFiles } from '../../../test/support/analyze-files.js';
import { osReleaseAnalyzer } from './index.js';
import { parseDebianVersion, parseOsRelease, parseRedhatRelease, parseShellAssignments } from './parse.js';

const UBUNTU_2204 = `PRETTY_NAME="Ubuntu 22.04.4 LTS"
NAME="Ubuntu"
VERSION_ID="22.04"
VERSION="22.04.4 LTS (Jammy Jellyfish)"
VERSION_CODENAME=jammy
ID=ubuntu
ID_LIKE=debian
HOME_URL="https://www.ubuntu.com/"
UBUNTU_CODENAME=jammy
`;

const ROCKY_9 = `NAME="Rocky Linux"
VERSION="9.3 (Blue Onyx)"
ID="rocky"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.3"
PLATFORM_ID="platform:el9"
PRETTY_NAME="Rocky Linux 9.3 (Blue Onyx)"
`;

describe('os-release parsing', () => {
  it('reads the fields of a real Ubuntu os-release', () => {
    expect(parseOsRelease(UBUNTU_2204)).toEqual({
      id: 'ubuntu', versionId: '22.04', versionCodename: 'jammy', prettyName: 'Ubuntu 22.04.4 LTS', idLike: ['debian'],
    });
  });

  it('splits a quoted ID_LIKE into its parts', () => {
    expect(parseOsRelease(ROCKY_9)).toMatchObject({ id: 'rocky', versionId: '9.3', idLike: ['rhel', 'centos', 'fedora'] });
  });

  it('handles comments, single quotes, escapes and trailing comments', () => {
    const fields = parseShellAssignments([
      '# a comment line',
      '   ',
      "ID='my-os'",
      'PRETTY_NAME="My \\"quoted\\" OS \\$HOME \\\\ done"',
      'VERSION_ID=1.2 # trailing comment',
      'BROKEN="never closed',
      'not an assignment',
      '9BAD=x',
    ].join('\n'));
    expect(fields.get('ID')).toBe('my-os');
    expect(fields.get('PRETTY_NAME')).toBe('My "quoted" OS $HOME \\ done');
    expect(fields.get('VERSION_ID')).toBe('1.2');
    expect(fields.has('BROKEN')).toBe(false);
    expect(fields.has('9BAD')).toBe(false);
  });

  it('defaults ID to linux, as os-release(5) says, only when the file has os-release keys', () => {
    expect(parseOsRelease('NAME=Something\n')).toMatchObject({ id: 'linux', prettyName: 'Something' });
    expect(parseOsRelease('FOO=bar\n')).toBeNull();
    expect(parseOsRelease('')).toBeNull();
  });

  it('keeps CRLF files readable', () => {
    expect(parseOsRelease('ID=debian\r\nVERSION_ID="12"\r\n')).toMatchObject({ id: 'debian', versionId: '12' });
  });
});

describe('fallback release files', () => {
  it('reads Red Hat-family release lines', () => {
    expect(parseRedhatRelease('CentOS Linux release 7.9.2009 (Core)\n')).toEqual({
      id: 'centos', versionId: '7.9.2009', prettyName: 'CentOS Linux release 7.9.2009 (Core)',
    });
    expect(parseRedhatRelease('CentOS release 6.10 (Final)\n')).toMatchObject({ id: 'centos', versionId: '6.10' });
    expect(parseRedhatRelease('Red Hat Enterprise Linux Server release 7.9 (Maipo)\n')).toMatchObject({ id: 'rhel', versionId: '7.9' });
    expect(parseRedhatRelease('Rocky Linux release 8.9 (Green Obsidian)\n')).toMatchObject({ id: 'rocky', versionId: '8.9' });
    expect(parseRedhatRelease('Fedora release 39 (Thirty Nine)\n')).toMatchObject({ id: 'fedora', versionId: '39' });
    expect(parseRedhatRelease('CentOS Stream release 8\n')).toMatchObject({ id: 'centos', versionId: '8' });
    expect(parseRedhatRelease('Some Other Linux 4\n')).toBeNull();
  });

  it('reads debian_version as the major release, or the codename on testing', () => {
    expect(parseDebianVersion('12.5\n')).toMatchObject({ id: 'debian', versionId: '12' });
    expect(parseDebianVersion('bookworm/sid\n')).toMatchObject({ id: 'debian', versionCodename: 'bookworm' });
    expect(parseDebianVersion('\u0000\u0001garbage')).toBeNull();
  });
});

describe('osReleaseAnalyzer over a tree', () => {
  it('prefers etc/os-release to the fallbacks in the same image', async () => {
    const { os } = await analyzeFiles([osReleaseAnalyzer], [
      { path: 'etc/alpine-release', content: '3.18.0\n' },
      { path: 'etc/os-release', content: 'ID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME="Alpine Linux v3.19"\n' },
    ]);
    expect(os).toMatchObject({ id: 'alpine', versionId: '3.19.1' });
  });

  it('follows usr/lib/os-release when etc/os-release is a symlink to it', async () => {
    const { os } = await analyzeFiles([osReleaseAnalyzer], [
      { path: 'etc/os-release', content: '', type: 'symlink', linkname: '../usr/lib/os-release' },
      { path: 'usr/lib/os-release', content: 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n' },
      { path: 'etc/debian_version', content: '12.5\n' },
    ]);
    expect(os).toMatchObject({ id: 'debian', versionId: '12', versionCodename: 'bookworm' });
  });

  it('falls back to alpine-release and centos-release when there is no os-release', async () => {
    expect((await analyzeFiles([osReleaseAnalyzer], [{ path: 'etc/alpine-release', content: '3.4.6\n' }])).os)
      .toMatchObject({ id: 'alpine', versionId: '3.4.6' });
    expect((await analyzeFiles([osReleaseAnalyzer], [{ path: 'etc/centos-release', content: 'CentOS release 6.10 (Final)\n' }])).os)
      .toMatchObject({ id: 'centos', versionId: '6.10' });
  });

  it('turns garbage into a notice or nothing, never a throw', async () => {
    const garbage = Buffer.alloc(4096);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 131 + 7) & 0xff;
    const result = await analyzeFiles([osReleaseAnalyzer], [
      { path: 'etc/os-release', content: garbage },
      { path: 'etc/redhat-release', content: garbage },
      { path: 'etc/lsb-release', content: '' },
    ]);
    expect(result.os).toBeNull();
    expect(result.notices.every((n) => n.level === 'warning')).toBe(true);
    expect(result.notices.map((n) => n.path)).toEqual(['etc/os-release']);
  });

  it('ignores an absurdly large release file with a notice', async () => {
    const huge = 'ID=x\n' + 'A=b\n'.repeat(200_000);
    const result = await analyzeFiles([osReleaseAnalyzer], [{ path: 'etc/os-release', content: huge }]);
    expect(result.os).toBeNull();
    expect(result.notices[0]?.message).toMatch(/too large/);
  });

  it('wants only the release files', () => {
    const header = { type: 'file' as const, size: 1, mode: 0o644 };
    expect(osReleaseAnalyzer.wants('etc/os-release', { ...header, path: 'etc/os-release' })).toBe(true);
    expect(osReleaseAnalyzer.wants('etc/os-release.bak', { ...header, path: 'etc/os-release.bak' })).toBe(false);
    expect(osReleaseAnalyzer.wants('opt/etc/os-release', { ...header, path: 'opt/etc/os-release' })).toBe(false);
  });
});
