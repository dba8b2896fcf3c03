/*
 * Detonate: cryptocurrency miner programs found by content, so a renamed binary is still found.
 * Written for Detonate (MIT). Strings are the miners' public names, usage text, donation hosts and the
 * Stratum / getwork protocol method names every mining client sends. Each family rule requires executable
 * magic plus the family's name AND mining-protocol strings, so a program that merely mentions a miner
 * (an antivirus, a wallet, a pool list) does not match. Miner configuration files (JSON pools, wallets) are
 * left to the cryptominer detector, which reads them as data.
 */

private rule CM_Executable
{
    meta:
        description = "ELF, PE or Mach-O executable"
    condition:
        uint32(0) == 0x464c457f
        or (uint16(0) == 0x5a4d and uint32(0x3c) < filesize and uint32(uint32(0x3c)) == 0x00004550)
        or uint32(0) == 0xfeedfacf or uint32(0) == 0xcffaedfe
        or uint32(0) == 0xfeedface or uint32(0) == 0xcefaedfe
}

/* The mining client side of Stratum (v1 and the Ethereum variants) or getwork. */
private rule CM_MiningProtocol
{
    meta:
        description = "at least two Stratum/getwork client strings"
    strings:
        $subscribe = "mining.subscribe"
        $authorize = "mining.authorize"
        $submit = "mining.submit"
        $notify = "mining.notify"
        $set_difficulty = "mining.set_difficulty"
        $stratum_tcp = "stratum+tcp://" nocase
        $stratum_ssl = "stratum+ssl://" nocase
        $stratum1 = "stratum1+tcp" nocase
        $eth_submit = "eth_submitWork"
        $eth_login = "eth_submitLogin"
        $eth_getwork = "eth_getWork"
        $xmr_login = "\"method\":\"login\"" nocase
        $xmr_job = "\"method\":\"job\"" nocase
    condition:
        2 of them
}

rule Cryptominer_XMRig
{
    meta:
        category = "cryptominer"
        severity = "critical"
        attack = "T1496"
        title = "XMRig cryptominer"
        family = "xmrig"
        author = "Detonate"
        license = "MIT"
        reference = "https://github.com/xmrig/xmrig"
    strings:
        $donate_v2 = "donate.v2.xmrig.com"
        $donate_ssl = "donate.ssl.xmrig.com"
        $usage = "Usage: xmrig [OPTIONS]"
        $algorithms = "xmrig.com/docs/algorithms"
        $benchmark = "xmrig.com/benchmark"
        $donate_level = "--donate-level"
        $donate_proxy = "donate over xmrig-proxy"
        $keys = "'h' hashrate, 'p' pause, 'r' resume"
        $agent = "XMRig/"
        $randomx = "randomx" nocase
        $cryptonight = "cryptonight" nocase
        $rx0 = "rx/0"
    condition:
        CM_Executable and filesize < 50MB and (
            (1 of ($donate_v2, $donate_ssl, $usage, $algorithms, $benchmark)
                and 1 of ($donate_level, $donate_proxy, $keys, $randomx, $cryptonight, $rx0, $agent))
            or ($agent and 3 of ($donate_level, $donate_proxy, $keys, $randomx, $cryptonight, $rx0))
        )
}

/* XMRig forks rename the program and donation hosts but keep its options and algorithm names. */
rule Cryptominer_XMRig_Fork
{
    meta:
        category = "cryptominer"
        severity = "critical"
        attack = "T1496"
        title = "XMRig-derived cryptominer"
        family = "xmrig"
        author = "Detonate"
        license = "MIT"
        reference = "https://github.com/xmrig/xmrig"
    strings:
        $donate_level = "--donate-level"
        $keys = "'h' hashrate, 'p' pause, 'r' resume"
        $rx0 = "rx/0"
        $cn_r = "cn/r"
        $url_help = "URL of mining server"
        $user_help = "username for mining server"
        $randomx = "randomx" nocase
    condition:
        CM_Executable and filesize < 50MB and not Cryptominer_XMRig
        and $donate_level and 4 of ($keys, $rx0, $cn_r, $url_help, $user_help, $randomx)
}

rule Cryptominer_XmrStak
{
    meta:
        category = "cryptominer"
        severity = "critical"
        attack = "T1496"
        title = "xmr-stak cryptominer"
        family = "xmr-stak"
        author = "Detonate"
        license = "MIT"
        reference = "https://github.com/fireice-uk/xmr-stak"
    strings:
        $name = "xmr-stak" nocase
        $author = "fireice-uk"
        $pools = "pools.txt"
        $cpu = "cpu.txt"
        $cryptonight = "cryptonight" nocase
        $version = "XMRSTAK_VERSION"
    condition:
        CM_Executable and filesize < 50MB and $name and $cryptonight and 2 of ($author, $pools, $cpu, $version)
}

rule Cryptominer_Cpuminer
{
    meta:
        category = "cryptominer"
        severity = "critical"
        attack = "T1496"
        title = "cpuminer (minerd) cryptominer"
        family = "cpuminer"
        author = "Detonate"
        license = "MIT"
        reference = "https://github.com/pooler/cpuminer"
    strings:
        $agent = "cpuminer/"
        $multi = "cpuminer-multi"
        $minerd_usage = "Usage: minerd [OPTIONS]"
        $minerd_help = "Try `minerd --help'"
        $pooler = "pooler/cpuminer"
        $tpruvot = "tpruvot/cpuminer-multi"
        $sha256d = "sha256d"
        $scrypt = "scrypt"
    condition:
        CM_Executable and filesize < 30MB and CM_MiningProtocol
        and 2 of ($agent, $multi, $minerd_usage, $minerd_help, $pooler, $tpruvot)
        and ($sha256d or $scrypt)
}

rule Cryptominer_Ccminer
{
    meta:
        category = "cryptominer"
        severity = "critical"
        attack = "T1496"
        title = "ccminer GPU cryptominer"
        family = "ccminer"
        author = "Detonate"
        license = "MIT"
        reference = "https://github.com/tpruvot/ccminer"
    strings:
        $name = "ccminer" fullword nocase
        $agent = "ccminer/"
        $usage = "Usage: ccminer [OPTIONS]"
        $tpruvot = "tpruvot"
        $cuda = "cuda" nocase
    condition:
        CM_Executable and filesize < 200MB and CM_MiningProtocol and $name and 2 of ($agent, $usage, $tpruvot, $cuda)
}

rule Cryptominer_TRex
{
    meta:
        category = "cryptominer"
        severity = "critical"
        attack = "T1496"
        title = "T-Rex GPU cryptominer"
        family = "t-rex"
        author = "Detonate"
        license = "MIT"
        reference = "https://trex-miner.com/"
    strings:
        $site = "trex-miner.com" nocase
        $name = "T-Rex" fullword
        $banner = "T-Rex NVIDIA GPU miner"
        $agent = "t-rex/" nocase
    condition:
        CM_Executable and filesize < 200MB and CM_MiningProtocol and 2 of them
}

rule Cryptominer_LolMiner
{
    meta:
        category = "cryptominer"
        severity = "critical"
        attack = "T1496"
        title = "lolMiner GPU cryptominer"
        family = "lolminer"
        author = "Detonate"
        license = "MIT"
        reference = "https://github.com/Lolliedieb/lolMiner-releases"
    strings:
        $name = "lolMiner"
        $author = "Lolliedieb"
        $agent = "lolMiner/"
    condition:
        CM_Executable and filesize < 200MB and CM_MiningProtocol and $name and ($author or $agent or #name > 3)
}

rule Cryptominer_NBMiner
{
    meta:
        category = "cryptominer"
        severity = "critical"
        attack = "T1496"
        title = "NBMiner GPU cryptominer"
        family = "nbminer"
        author = "Detonate"
        license = "MIT"
        reference = "https://github.com/NebuTech/NBMiner"
    strings:
        $name = "NBMiner"
        $org = "NebuTech"
        $agent = "NBMiner/"
    condition:
        CM_Executable and filesize < 200MB and CM_MiningProtocol and $name and ($org or $agent or #name > 3)
}

rule Cryptominer_SRBMiner
{
    meta:
        category = "cryptominer"
        severity = "critical"
        attack = "T1496"
        title = "SRBMiner cryptominer"
        family = "srbminer"
        author = "Detonate"
        license = "MIT"
        reference = "https://github.com/doktor83/SRBMiner-Multi"
    strings:
        $multi = "SRBMiner-MULTI" nocase
        $name = "SRBMiner"
        $author = "doktor83"
    condition:
        CM_Executable and filesize < 200MB and CM_MiningProtocol and ($multi or ($name and $author))
}

rule Cryptominer_Ethminer
{
    meta:
        category = "cryptominer"
        severity = "critical"
        attack = "T1496"
        title = "ethminer GPU cryptominer"
        family = "ethminer"
        author = "Detonate"
        license = "MIT"
        reference = "https://github.com/ethereum-mining/ethminer"
    strings:
        $name = "ethminer" fullword
        $repo = "ethereum-mining/ethminer"
        $farm_recheck = "--farm-recheck"
        $ethash = "ethash" nocase
        $agent = "ethminer/"
    condition:
        CM_Executable and filesize < 200MB and CM_MiningProtocol and $name and $ethash and 1 of ($repo, $farm_recheck, $agent)
}

rule Cryptominer_PhoenixMiner
{
    meta:
        category = "cryptominer"
        severity = "critical"
        attack = "T1496"
        title = "PhoenixMiner GPU cryptominer"
        family = "phoenixminer"
        author = "Detonate"
        license = "MIT"
        reference = "https://phoenixminer.org/"
    strings:
        $name = "PhoenixMiner"
        $site = "phoenixminer.org" nocase
        $wal = "-wal" fullword
        $pool = "-pool" fullword
    condition:
        CM_Executable and filesize < 200MB and CM_MiningProtocol and $name and ($site or ($wal and $pool))
}

rule Cryptominer_GMiner
{
    meta:
        category = "cryptominer"
        severity = "critical"
        attack = "T1496"
        title = "GMiner GPU cryptominer"
        family = "gminer"
        author = "Detonate"
        license = "MIT"
        reference = "https://github.com/develsoftware/GMinerRelease"
    strings:
        $name = "GMiner" fullword
        $vendor = "develsoftware"
        $site = "gminer.info" nocase
        $agent = "GMiner/"
    condition:
        CM_Executable and filesize < 200MB and CM_MiningProtocol and $name and 1 of ($vendor, $site, $agent)
}

/* Any other program speaking the full Stratum client handshake is a miner of some kind. */
rule Cryptominer_Generic_Stratum_Client
{
    meta:
        category = "cryptominer"
        severity = "high"
        attack = "T1496"
        title = "Cryptominer (Stratum mining client)"
        family = "generic"
        author = "Detonate"
        license = "MIT"
        reference = "https://en.bitcoin.it/wiki/Stratum_mining_protocol"
    strings:
        $subscribe = "mining.subscribe"
        $authorize = "mining.authorize"
        $submit = "mining.submit"
        $stratum_tcp = "stratum+tcp" nocase
        $stratum_ssl = "stratum+ssl" nocase
    condition:
        CM_Executable and filesize < 200MB
        and $subscribe and $authorize and $submit and ($stratum_tcp or $stratum_ssl)
        and not (Cryptominer_XMRig or Cryptominer_XMRig_Fork or Cryptominer_XmrStak or Cryptominer_Cpuminer
            or Cryptominer_Ccminer or Cryptominer_TRex or Cryptominer_LolMiner or Cryptominer_NBMiner
            or Cryptominer_SRBMiner or Cryptominer_Ethminer or Cryptominer_PhoenixMiner or Cryptominer_GMiner)
}
