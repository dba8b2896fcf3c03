/*
 * Detonate: implants, bots, rootkits, webshells and reverse-shell payloads found by content.
 * Written for Detonate (MIT). Strings are the families' public command words, file paths, mutex/key
 * strings and source identifiers as described in public analyses; each rule needs several of them (plus
 * ELF magic for binary families) so a security tool that merely names a family does not match.
 */

private rule BD_ELF
{
    meta:
        description = "ELF file"
    condition:
        uint32(0) == 0x464c457f
}

/* A PHP file: an open tag somewhere (webshells hide it after junk or inside images). */
private rule BD_PHP
{
    meta:
        description = "PHP source"
    strings:
        $open = "<?php" nocase
        $short = "<?="
        $script = "<script language=\"php\">" nocase
    condition:
        1 of them
}

/* Detection content (another tool's YARA rules) quotes the very strings these rules look for. */
private rule BD_YaraRuleSource
{
    meta:
        description = "YARA rule source text"
    strings:
        $rule = /rule\s{1,8}\w{1,128}[\w :\t\r\n]{0,256}\{/
        $strings = "strings:"
        $condition = "condition:"
    condition:
        $rule and $strings and $condition
}

rule Backdoor_Kinsing
{
    meta:
        category = "backdoor"
        severity = "critical"
        attack = "T1496,T1105,T1059.004"
        title = "Kinsing (H2Miner) malware"
        family = "kinsing"
        author = "Detonate"
        license = "MIT"
        reference = "https://attack.mitre.org/software/S0599/"
    strings:
        $miner = "kdevtmpfsi"
        $go_masscan = "main.masscan"
        $go_backconnect = "main.backconnect"
        $go_redis = "main.redisBrute"
        $go_minercheck = "main.minerRunningCheck"
        $go_health = "main.checkHealth"
        $go_task = "main.runTask"
        $c2 = "ActiveC2CUrl"
    condition:
        BD_ELF and filesize < 60MB and (($miner and 1 of ($go_*, $c2)) or 4 of ($go_*, $c2))
}

rule Backdoor_Kinsing_Dropper_Script
{
    meta:
        category = "backdoor"
        severity = "critical"
        attack = "T1105,T1059.004,T1053.003"
        title = "Kinsing (H2Miner) dropper script"
        family = "kinsing"
        author = "Detonate"
        license = "MIT"
        reference = "https://attack.mitre.org/software/S0599/"
    strings:
        $miner = "kdevtmpfsi"
        $bot = "kinsing"
        $curl = "curl" fullword
        $wget = "wget" fullword
        $chmod = "chmod +x" nocase
    condition:
        not BD_YaraRuleSource and
        not BD_ELF and filesize < 1MB and $miner and $bot and ($curl or $wget) and $chmod
}

rule Backdoor_Mirai
{
    meta:
        category = "backdoor"
        severity = "critical"
        attack = "T1498,T1110.001,T1584.005"
        title = "Mirai IoT botnet"
        family = "mirai"
        author = "Detonate"
        license = "MIT"
        reference = "https://github.com/jgamblin/Mirai-Source-Code"
    strings:
        // Mirai keeps its table strings XOR-ed with 0x22 (key 0xdeadbeef folded to one byte)
        $x_busybox = "/bin/busybox MIRAI" xor(0x22)
        $x_applet = "MIRAI: applet not found" xor(0x22)
        $x_vse = "TSource Engine Query" xor(0x22)
        $x_dvr = "dvrHelper" xor(0x22)
        $x_watchdog = "/dev/watchdog" xor(0x22)
        $x_misc_watchdog = "/dev/misc/watchdog" xor(0x22)
        $x_anime = ".anime" xor(0x22)
        $p_busybox = "/bin/busybox MIRAI"
        $p_applet = "MIRAI: applet not found"
        $p_dvr = "dvrHelper"
        $p_vse = "TSource Engine Query"
        $p_watchdog = "/dev/watchdog"
        $p_misc_watchdog = "/dev/misc/watchdog"
    condition:
        BD_ELF and filesize < 5MB and (
            2 of ($x_busybox, $x_applet, $x_vse, $x_dvr, $x_anime)
            or (1 of ($x_busybox, $x_applet, $x_vse, $x_dvr, $x_anime) and 1 of ($x_watchdog, $x_misc_watchdog))
            or (1 of ($p_busybox, $p_applet, $p_dvr) and $p_vse and 1 of ($p_watchdog, $p_misc_watchdog))
        )
}

rule Backdoor_Gafgyt
{
    meta:
        category = "backdoor"
        severity = "critical"
        attack = "T1498,T1110.001"
        title = "Gafgyt (Bashlite/Qbot) IoT botnet"
        family = "gafgyt"
        author = "Detonate"
        license = "MIT"
        reference = "https://attack.mitre.org/software/S1018/"
    strings:
        $killattk = "KILLATTK"
        $gtfo = "LOLNOGTFO"
        $localip = "GETLOCALIP"
        $raw1 = "Failed opening raw socket."
        $raw2 = "Failed setting raw headers mode."
        $gayfgt = "gayfgt"
        $gayfgt_octal = "\\147\\141\\171\\146\\147\\164"
        $scanner = "SCANNER ON"
    condition:
        BD_ELF and filesize < 5MB and 3 of them
}

rule Backdoor_Tsunami_Kaiten
{
    meta:
        category = "backdoor"
        severity = "critical"
        attack = "T1498,T1071.003"
        title = "Tsunami (Kaiten) IRC bot"
        family = "tsunami"
        author = "Detonate"
        license = "MIT"
        reference = "https://attack.mitre.org/software/S0449/"
    strings:
        $goraku = "Kaiten wa goraku"
        $tsunami = "TSUNAMI <target> <secs>"
        $pan = "PAN <target> <port> <secs>"
        $udp = "UDP <target> <port> <secs>"
        $spoofs = "GETSPOOFS"
        $killall = "KILLALL" fullword
        $unknown = "UNKNOWN <target> <secs>"
    condition:
        not BD_YaraRuleSource and
        filesize < 5MB and 3 of them
}

rule Backdoor_XorDDoS
{
    meta:
        category = "backdoor"
        severity = "critical"
        attack = "T1498,T1014,T1053.003"
        title = "XorDDoS Linux DDoS trojan"
        family = "xorddos"
        author = "Detonate"
        license = "MIT"
        reference = "https://attack.mitre.org/software/S0635/"
    strings:
        $key = "BB2FA36AAA9541F0"
        $cron = "/etc/cron.hourly/gcc.sh"
        $pid = "/var/run/gcc.pid"
        $sed = "sed -i '/\\/etc\\/cron.hourly\\/gcc.sh/d' /etc/crontab"
        $udev = "/lib/libudev.so"
    condition:
        BD_ELF and filesize < 10MB and ($key or 2 of ($cron, $pid, $sed, $udev))
}

rule Backdoor_Ebury_Keyutils
{
    meta:
        category = "backdoor"
        severity = "critical"
        attack = "T1556,T1554,T1574.006"
        title = "Ebury OpenSSH credential-stealing backdoor (trojanised libkeyutils)"
        family = "ebury"
        author = "Detonate"
        license = "MIT"
        reference = "https://attack.mitre.org/software/S0377/"
    strings:
        // the real libkeyutils exports the keyctl API and never mentions OpenSSH
        $k1 = "keyctl_read_alloc"
        $k2 = "keyctl_search"
        $k3 = "request_key"
        $k4 = "keyctl_describe_alloc"
        $s1 = "/usr/sbin/sshd"
        $s2 = "userauth_passwd"
        $s3 = "PermitRootLogin"
        $s4 = "ssh_userauth"
        $s5 = "auth_password"
        $s6 = "SSH_CONNECTION"
    condition:
        BD_ELF and filesize < 5MB and 3 of ($k*) and 2 of ($s*)
}

rule Backdoor_Libprocesshider
{
    meta:
        category = "backdoor"
        severity = "critical"
        attack = "T1574.006,T1014,T1564"
        title = "libprocesshider LD_PRELOAD process-hiding library"
        family = "libprocesshider"
        author = "Detonate"
        license = "MIT"
        reference = "https://github.com/gianlucaborello/libprocesshider"
    strings:
        $dlsym = "Error in dlsym: %s"
        $fd = "/proc/self/fd/%d"
        $stat = "/proc/%s/stat"
        $scan = "%d (%[^)]s"
        $readdir = "readdir" fullword
        $src_filter = "process_to_filter"
        $src_orig = "original_readdir"
        $src_next = "dlsym(RTLD_NEXT"
    condition:
        not BD_YaraRuleSource and
        filesize < 5MB and (
            (BD_ELF and $dlsym and $fd and $stat and $readdir and $scan)
            or ($src_filter and $src_orig and $src_next)
        )
}

rule Backdoor_Diamorphine_Rootkit
{
    meta:
        category = "backdoor"
        severity = "critical"
        attack = "T1014,T1547.006"
        title = "Diamorphine Linux kernel rootkit"
        family = "diamorphine"
        author = "Detonate"
        license = "MIT"
        reference = "https://github.com/m0nad/Diamorphine"
    strings:
        $name = "diamorphine" nocase
        $f1 = "hacked_getdents"
        $f2 = "hacked_kill"
        $f3 = "module_hide"
        $f4 = "give_root"
        $f5 = "is_invisible"
        $f6 = "diamorphine_secret"
    condition:
        not BD_YaraRuleSource and
        filesize < 5MB and $name and 3 of ($f*)
}

rule Backdoor_Reptile_Rootkit
{
    meta:
        category = "backdoor"
        severity = "critical"
        attack = "T1014,T1547.006,T1205"
        title = "Reptile Linux kernel rootkit"
        family = "reptile"
        author = "Detonate"
        license = "MIT"
        reference = "https://github.com/f0rb1dd3n/Reptile"
    strings:
        $f1 = "reptile_shell"
        $f2 = "reptile_start"
        $f3 = "reptile_module"
        $f4 = "reptile_init"
        $f5 = "reptile_exit"
        $s1 = "name=reptile"
        $s2 = "Reptile Packet Sender"
        $s3 = "/reptile/reptile_cmd"
    condition:
        not BD_YaraRuleSource and
        filesize < 10MB and 3 of them
}

rule Backdoor_Webshell_PHP_Eval_Request
{
    meta:
        category = "backdoor"
        severity = "critical"
        attack = "T1505.003"
        title = "PHP webshell (evaluates or runs request input)"
        family = "webshell"
        author = "Detonate"
        license = "MIT"
        reference = "https://attack.mitre.org/techniques/T1505/003/"
    strings:
        $eval = /(eval|assert)\s{0,8}\(\s{0,8}(@\s{0,4})?(base64_decode\s{0,8}\(\s{0,8}|str_rot13\s{0,8}\(\s{0,8}|gzinflate\s{0,8}\(\s{0,8}|stripslashes\s{0,8}\(\s{0,8}){0,3}\$_(POST|GET|REQUEST|COOKIE)\s{0,8}\[/ nocase
        $exec = /(system|passthru|shell_exec|popen|proc_open|pcntl_exec)\s{0,8}\(\s{0,8}(base64_decode\s{0,8}\(\s{0,8})?\$_(POST|GET|REQUEST|COOKIE)\s{0,8}\[/ nocase
        $call = /\$_(POST|GET|REQUEST|COOKIE)\s{0,8}\[\s{0,8}['"]?\w{1,32}['"]?\s{0,8}\]\s{0,8}\(\s{0,8}\$_(POST|GET|REQUEST|COOKIE)\s{0,8}\[/ nocase
    condition:
        not BD_YaraRuleSource and
        filesize < 2MB and BD_PHP and 1 of them
}

rule Backdoor_Webshell_PHP_Family
{
    meta:
        category = "backdoor"
        severity = "critical"
        attack = "T1505.003"
        title = "PHP webshell (b374k, c99, r57 or WSO)"
        family = "webshell"
        author = "Detonate"
        license = "MIT"
        reference = "https://attack.mitre.org/techniques/T1505/003/"
    strings:
        $b374k = "b374k" nocase
        $c99 = "c99shell" nocase
        $c99sh = "c99sh_" nocase
        $r57 = "r57shell" nocase
        $wso = "WSO " fullword
        $filesman = "FilesMan"
        $auth_pass = "$auth_pass"
        $x1 = "shell_exec" nocase
        $x2 = "passthru" nocase
        $x3 = "base64_decode" nocase
        $x4 = "gzinflate" nocase
        $x5 = "proc_open" nocase
        $x6 = "$_POST" nocase
    condition:
        not BD_YaraRuleSource and
        filesize < 5MB and BD_PHP
        and (1 of ($b374k, $c99, $c99sh, $r57) or ($filesman and ($wso or $auth_pass)))
        and 2 of ($x*)
}

rule Backdoor_Webshell_JSP_Exec_Request
{
    meta:
        category = "backdoor"
        severity = "critical"
        attack = "T1505.003"
        title = "JSP webshell (runs request input)"
        family = "webshell"
        author = "Detonate"
        license = "MIT"
        reference = "https://attack.mitre.org/techniques/T1505/003/"
    strings:
        $tag = "<%"
        $exec = /Runtime\s{0,8}\.\s{0,8}getRuntime\s{0,8}\(\s{0,8}\)\s{0,8}\.\s{0,8}exec\s{0,8}\(\s{0,8}(new\s{1,8}String\[\]\s{0,8}\{[^}]{0,200})?request\s{0,8}\.\s{0,8}getParameter\s{0,8}\(/
        $builder = /new\s{1,8}ProcessBuilder\s{0,8}\([^;]{0,200}request\s{0,8}\.\s{0,8}getParameter\s{0,8}\(/
    condition:
        not BD_YaraRuleSource and
        filesize < 2MB and $tag and ($exec or $builder)
}

rule Backdoor_Webshell_ASP_Eval_Request
{
    meta:
        category = "backdoor"
        severity = "critical"
        attack = "T1505.003"
        title = "ASP/ASPX webshell (evaluates request input)"
        family = "webshell"
        author = "Detonate"
        license = "MIT"
        reference = "https://attack.mitre.org/techniques/T1505/003/"
    strings:
        $tag = "<%"
        $eval = /(eval|execute|executeglobal)\s{0,8}\(?\s{0,8}request\s{0,8}(\.\s{0,8}(form|querystring|item)\s{0,8})?[\(\[]/ nocase
        $jscript = /eval\s{0,8}\(\s{0,8}Request\s{0,8}\.\s{0,8}Item\s{0,8}\[/ nocase
    condition:
        not BD_YaraRuleSource and
        filesize < 2MB and $tag and ($eval or $jscript)
}

rule Backdoor_Meterpreter_PHP
{
    meta:
        category = "backdoor"
        severity = "critical"
        attack = "T1505.003,T1059"
        title = "Metasploit PHP Meterpreter / reverse TCP payload"
        family = "meterpreter"
        author = "Detonate"
        license = "MIT"
        reference = "https://github.com/rapid7/metasploit-framework"
    strings:
        $msgsock = "$GLOBALS['msgsock']"
        $msgsock_type = "$GLOBALS['msgsock_type']"
        $stream = "stream_socket_client"
        $s_type = "$s_type"
        $len = "unpack(\"Nlen\", $len)"
    condition:
        not BD_YaraRuleSource and
        filesize < 2MB and $msgsock and 2 of ($msgsock_type, $stream, $s_type, $len)
}

rule Backdoor_Meterpreter_Python
{
    meta:
        category = "backdoor"
        severity = "critical"
        attack = "T1059.006,T1027"
        title = "Metasploit Python payload stager"
        family = "meterpreter"
        author = "Detonate"
        license = "MIT"
        reference = "https://github.com/rapid7/metasploit-framework"
    strings:
        $zlib_b64 = "__import__('zlib').decompress(__import__('base64').b64decode(__import__('codecs').getencoder('utf-8')("
        $b64_exec = "exec(__import__('base64').b64decode(__import__('codecs').getencoder('utf-8')("
        $tlv = "TLV_TYPE_" ascii
        $met = "meterpreter" ascii nocase
        $packet = "PACKET_TYPE_REQUEST" ascii
    condition:
        not BD_YaraRuleSource and
        filesize < 5MB and (1 of ($zlib_b64, $b64_exec) or ($met and #tlv > 20 and $packet))
}
