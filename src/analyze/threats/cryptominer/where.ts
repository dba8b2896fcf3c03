/** Where a text file sits, for titles and evidence: a crontab line means something else than a library's source. */
export type TextPlace = 'crontab' | 'systemd-unit' | 'init-script' | 'shell-startup' | 'history' | 'entrypoint' | 'web-page' | 'script' | 'config' | 'file';

export function placeOf(path: string): TextPlace {
  const name = path.slice(path.lastIndexOf('/') + 1);
  if (/^etc\/crontab$|^etc\/cron\.[^/]+\/|^var\/spool\/cron\//.test(path)) return 'crontab';
  if (/(^|\/)systemd\/(system|user)\/|\.(service|timer)$/.test(path)) return 'systemd-unit';
  if (/^etc\/(init\.d|rc\d?\.d|init)\/|^etc\/rc\.local$/.test(path)) return 'init-script';
  if (/(^|\/)\.(bashrc|bash_profile|bash_login|profile|zshrc|zprofile)$|^etc\/(profile(\.d\/.*)?|bash\.bashrc|zsh\/zshrc|update-motd\.d\/.*|xdg\/autostart\/.*)$/.test(path)) return 'shell-startup';
  if (/(^|\/)\.[a-z_]*_?history$/.test(path)) return 'history';
  if (/entrypoint|^(start|run|init|boot|launch|startup)(\.sh)?$/i.test(name)) return 'entrypoint';
  if (/\.(php\d?|phtml|phar|jsp|jspx|aspx?|ashx|asmx|cfm)$/i.test(name)) return 'web-page';
  if (/\.(sh|bash|zsh|ksh|py|pl|rb|ps1|js|mjs|cjs|lua|php)$/i.test(name)) return 'script';
  if (/\.(json|ya?ml|toml|ini|conf|cfg|cnf|properties|env|xml|txt)$/i.test(name) || path.startsWith('etc/')) return 'config';
  return 'file';
}

/** Places that run by themselves (at boot, on a schedule, on login, as the container's entrypoint). */
export function runsByItself(place: TextPlace): boolean {
  return place === 'crontab' || place === 'systemd-unit' || place === 'init-script' || place === 'shell-startup' || place === 'entrypoint';
}
