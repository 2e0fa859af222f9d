#!/usr/bin/env python3
"""Machine description and the report of bench/run.sh (stdlib only).

    report.py machine WGATED WIREGUARD_GO            > machine.json
    report.py report RAW MACHINE SETTINGS MICRO OUTDIR

`report` reads the raw results (one JSON object per line: round, config,
metric, value), takes the median over the rounds, computes the gains against
wireguard-go, checks the targets of the performance issue, prints the
Markdown report and writes it to OUTDIR/latest.md and OUTDIR/latest.json.
"""
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys

CONFIGS = ["wgate-wgate", "wgate-wggo", "wggo-wggo"]
CONFIG_TITLES = {
    "wgate-wgate": "wgate→wgate",
    "wgate-wggo": "wgate→wireguard-go",
    "wggo-wggo": "wireguard-go→wireguard-go",
}
BASELINE = "wggo-wggo"

# metric, title, unit/format, higher is better
TUNNEL_ROWS = [
    ("tcp1_mbps", "TCP, 1 stream", "Mbit/s", "{:.0f}", True),
    ("tcp4_mbps", "TCP, 4 streams", "Mbit/s", "{:.0f}", True),
    ("udp1400_kpps", "UDP 1400-byte datagrams, received", "kpps", "{:.1f}", True),
    ("udp1400_loss_pct", "UDP 1400-byte datagrams, loss", "%", "{:.1f}", None),
    ("udp64_kpps", "UDP 64-byte datagrams, received", "kpps", "{:.1f}", True),
    ("udp64_loss_pct", "UDP 64-byte datagrams, loss", "%", "{:.1f}", None),
    ("udp1400_max_kpps", "UDP 1400-byte datagrams, highest rate with ≤ 1 % loss", "kpps", "{:.1f}", True),
    ("udp64_max_kpps", "UDP 64-byte datagrams, highest rate with ≤ 1 % loss", "kpps", "{:.1f}", True),
    ("ping_idle_p50_ms", "ping RTT idle, p50", "ms", "{:.3f}", False),
    ("ping_idle_p99_ms", "ping RTT idle, p99", "ms", "{:.3f}", False),
    ("ping_load_p50_ms", "ping RTT under TCP bulk, p50", "ms", "{:.3f}", False),
    ("ping_load_p99_ms", "ping RTT under TCP bulk, p99", "ms", "{:.3f}", False),
    ("ping_load_loss_pct", "ping under TCP bulk, loss", "%", "{:.1f}", None),
    ("cpufixed_mbps", "TCP at the fixed CPU-test rate", "Mbit/s", "{:.0f}", None),
    ("cpufixed_cpu_ns_per_byte", "CPU per byte at the fixed rate (both daemons)", "ns/B", "{:.3f}", False),
    ("cpufixed_cycles_per_byte", "cycles per byte at the fixed rate (perf)", "cycles/B", "{:.2f}", False),
    ("tcp1_cpu_ns_per_byte", "CPU per byte, 1 stream at full speed", "ns/B", "{:.3f}", False),
    ("tcp1_cycles_per_byte", "cycles per byte, 1 stream at full speed (perf)", "cycles/B", "{:.2f}", False),
    ("tcp4_cpu_ns_per_byte", "CPU per byte, 4 streams at full speed", "ns/B", "{:.3f}", False),
]

DAEMONS = ["wgated", "wireguard-go"]
DAEMON_ROWS = [
    ("hs_inproc_per_s", "handshakes/s, core in-process (per CPU-second)", "{:.0f}", True),
    ("hs_udp_per_s", "handshakes/s, daemon pinned to one core, over UDP (wall clock)", "{:.0f}", True),
    ("hs_udp_per_cpu_s", "handshakes per CPU-second of the daemon, over UDP", "{:.0f}", True),
    ("hs_udp_cookie_replies", "cookie replies during the UDP handshake load", "{:.0f}", None),
    ("hs_udp_timeouts", "initiations unanswered (1 s) during the load", "{:.0f}", None),
    ("flood_retries", "flood: retries the legitimate peer needed (median)", "{:.0f}", False),
    ("flood_handshake_s", "flood: time to the legitimate handshake", "{:.1f} s", False),
    ("flood_sent_per_s", "flood: invalid initiations sent per second", "{:.0f}", None),
    ("flood_cookie_replies", "flood: cookie replies the flood got", "{:.0f}", None),
    ("scalecmp_setconf_s", "`wg setconf` of {cmp:,} peers (one /32 each)", "{:.2f} s", False),
    ("scalecmp_peers", "peers listed afterwards", "{:.0f}", None),
    ("scalecmp_rss_base_kib", "RSS before (idle, up, no peers)", "{:.0f} KiB", False),
    ("scalecmp_rss_after_kib", "RSS with {cmp:,} peers (idle)", "{:.0f} KiB", False),
    ("scalecmp_bytes_per_peer", "RSS growth per peer ({cmp:,} peers)", "{:.0f} B", False),
    ("scale_setconf_s", "`wg setconf` of {big:,} peers (wireguard-go: at most 65,536)", "{:.2f} s", False),
    ("scale_failed", "  refused (1) / accepted (0)", "{:.0f}", None),
    ("scale_bytes_per_peer", "RSS growth per peer ({big:,} peers)", "{:.0f} B", False),
]


def run(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine(wgated, wggo):
    cpuinfo = open("/proc/cpuinfo").read()
    model = re.search(r"^model name\s*:\s*(.*)$", cpuinfo, re.M)
    mhz = re.search(r"^cpu MHz\s*:\s*(.*)$", cpuinfo, re.M)
    flags = re.search(r"^flags\s*:\s*(.*)$", cpuinfo, re.M)
    flags = flags.group(1).split() if flags else []
    meminfo = open("/proc/meminfo").read()
    mem = re.search(r"^MemTotal:\s*(\d+) kB", meminfo, re.M)
    src = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    commit = run(["git", "-C", src, "rev-parse", "--short", "HEAD"])
    dirty = run(["git", "-C", src, "status", "--porcelain", "--untracked-files=no"])
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "nproc": os.cpu_count(),
        "cpu_model": model.group(1).strip() if model else platform.processor(),
        "cpu_mhz": float(mhz.group(1)) if mhz else None,
        "cpu_simd": [f for f in ("sse4_1", "avx", "avx2", "avx512f", "avx512vl") if f in flags],
        "virtualization": run(["systemd-detect-virt"]) or "unknown",
        "kernel": platform.release(),
        "memory_gib": round(int(mem.group(1)) / 1048576, 1) if mem else None,
        "wgated": run([wgated, "--version"]),
        "wireguard_go": (run([wggo, "--version"]).splitlines() or [""])[0],
        "wg_tools": run(["wg", "--version"]),
        "iperf3": (run(["iperf3", "--version"]).splitlines() or [""])[0],
        "git": commit + ("-dirty" if dirty else ""),
    }


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(fmtstr, v):
    return "–" if v is None else fmtstr.format(v)


def gain(v, base, higher):
    """How many times better than the baseline (> 1: better)."""
    if v is None or base is None or higher is None:
        return None
    if higher:
        return v / base if base else None
    return base / v if v else None


def fmt_gain(g):
    return "–" if g is None else f"{g:.2f}×"


def micro_results(path):
    """name -> {cpu_ns, items_per_s, bytes_per_s} (medians when repeated)."""
    try:
        data = json.load(open(path))
    except (OSError, ValueError):
        return {}
    scale = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}
    out = {}
    for b in data.get("benchmarks", []):
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        name = b.get("run_name", b["name"])
        if b.get("error_occurred"):
            out[name] = {"error": b.get("error_message", "error")}
            continue
        out[name] = {
            "cpu_ns": b["cpu_time"] * scale.get(b.get("time_unit", "ns"), 1),
            "real_ns": b["real_time"] * scale.get(b.get("time_unit", "ns"), 1),
            "items_per_s": b.get("items_per_second"),
            "bytes_per_s": b.get("bytes_per_second"),
        }
    return out


def fmt_ns(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.1f} µs"
    return f"{ns:.1f} ns"


def report(raw_path, machine_path, settings_path, micro_path, outdir):
    raw = [json.loads(line) for line in open(raw_path) if line.strip()]
    mach = json.load(open(machine_path))
    settings = json.load(open(settings_path))
    micro = micro_results(micro_path)

    values = {}  # (config, metric) -> [values by round]
    for r in raw:
        values.setdefault((r["config"], r["metric"]), []).append(r["value"])
    med = {k: median(v) for k, v in values.items()}

    def m(config, metric):
        return med.get((config, metric))

    lines = []
    out = lines.append
    kind = "quick smoke run" if settings["quick"] else "full run"
    out(f"# wgate benchmark: {mach['date']}")
    out("")
    out(f"{kind}: {settings['rounds']} round(s), {settings['seconds']} s per measurement, medians over the rounds; "
        f"parts: {settings['parts']}; {settings['duration_s']} s in all.")
    out("")
    out(f"Machine: {mach['nproc']} × {mach['cpu_model']} ({mach['virtualization']}), "
        f"{mach['memory_gib']} GiB, Linux {mach['kernel']}; load average {settings['loadavg_before']} before, "
        f"{settings['loadavg_after']} after (the benchmark's own load included). {mach['wgated']} (git {mach['git']}, {settings.get('build_type', '?')} build), "
        f"{mach['wireguard_go']}, "
        f"wireguard-tools {mach['wg_tools'].split(' ')[1] if mach['wg_tools'] else '?'}, {mach['iperf3']}.")
    out("")
    out(f"CPU accounting: {settings['cpu_source']}. Pinning of the daemon-level tests: {settings['pinned']}.")
    out("")

    tunnel = [(k, t, u, f, h) for (k, t, u, f, h) in TUNNEL_ROWS if any((c, k) in med for c in CONFIGS)]
    results = {"tunnel": {}, "daemon": {}, "micro": micro}
    if tunnel:
        out("## Through the tunnel (A → B, namespace pair, veth MTU 1500, tunnel MTU 1420)")
        out("")
        out("Gain: how many times better than wireguard-go→wireguard-go (> 1 is better: more throughput, "
            "less latency or CPU).")
        out("")
        out("| measurement | unit | " + " | ".join(CONFIG_TITLES[c] for c in CONFIGS) +
            " | gain wgate→wgate | gain wgate→wireguard-go |")
        out("|---|---|" + "---:|" * (len(CONFIGS) + 2))
        for key, title, unit, f, higher in tunnel:
            base = m(BASELINE, key)
            cells = [fmt(f, m(c, key)) for c in CONFIGS]
            g1 = gain(m("wgate-wgate", key), base, higher)
            g2 = gain(m("wgate-wggo", key), base, higher)
            out(f"| {title} | {unit} | " + " | ".join(cells) + f" | {fmt_gain(g1)} | {fmt_gain(g2)} |")
            results["tunnel"][key] = {c: {"median": m(c, key), "rounds": values.get((c, key), [])} for c in CONFIGS}
            results["tunnel"][key]["gain_wgate_wgate"] = g1
            results["tunnel"][key]["gain_wgate_wggo"] = g2
        out("")
        out(f"UDP: iperf3 -u -b {settings.get('udp_rate', '0')} with 1392- and 56-byte payloads (1400- and 64-byte UDP datagrams; 1420 and 84 "
            f"bytes as IP packets, so nothing fragments in the 1420-byte tunnel); received = sent − lost. At full "
            f"offered load iperf3 itself takes about half of the CPUs and the receiving iperf3 drops most datagrams in "
            f"its own socket (the daemons' sockets drop none), so the rate is also searched: the highest offered rate "
            f"losing at most {settings.get('udp_max_loss', 1)} % (doubling, then bisecting to within 10 %, "
            f"{settings.get('udp_search_dur', 2)} s per try). "
            f"Ping: {settings['pings']} pings 10 ms apart. CPU: utime+stime of both daemons per byte received, "
            f"at full speed and at a fixed rate of {settings['cpu_rate']}bit/s.")
        out("")

    daemon = [(k, t, f, h) for (k, t, f, h) in DAEMON_ROWS if any((d, k) in med for d in DAEMONS)]
    if daemon:
        out("## Daemon: handshakes, flood, scale")
        out("")
        out("| measurement | wgated | wireguard-go | gain |")
        out("|---|---:|---:|---:|")
        for key, title, f, higher in daemon:
            a, b = m("wgated", key), m("wireguard-go", key)
            g = gain(a, b, higher)
            title = title.format(cmp=settings.get("scale_cmp_peers", 0), big=settings.get("scale_peers", 0))
            out(f"| {title} | {fmt(f, a)} | {fmt(f, b)} | {fmt_gain(g)} |")
            results["daemon"][key] = {d: {"median": m(d, key), "rounds": values.get((d, key), [])} for d in DAEMONS}
            results["daemon"][key]["gain"] = g
        out("")
        out(f"Handshakes over UDP: handshake_load sends valid initiations from {settings['hs_keys']} identities "
            f"(at most {settings.get('hs_window', 256)} outstanding, each identity 25 ms apart) from 1024 source addresses, answering cookie "
            "replies with mac2. Flood: handshake_load sends mac1-valid garbage initiations from 256 addresses × "
            f"16 ports at up to {settings['flood_pps']}/s while a wireguard-go peer handshakes (its initiations "
            "counted in its verbose log). The responder is pinned to one core in both.")
        out("")

    if micro:
        out("## Micro-benchmarks (Google Benchmark, CPU time" +
            (", median of 3 repetitions)" if not settings["quick"] else ")"))
        out("")
        out("| benchmark | time per op | throughput |")
        out("|---|---:|---:|")
        for name, r in micro.items():
            if "error" in r:
                out(f"| {name} | error: {r['error']} | |")
                continue
            thr = ""
            if r.get("bytes_per_s"):
                thr = f"{r['bytes_per_s'] / 1e9:.2f} GB/s"
            else:
                per_s = r.get("items_per_s") or (1e9 / r["cpu_ns"] if r["cpu_ns"] else None)
                if per_s is None:
                    thr = ""
                elif per_s >= 1e6:
                    thr = f"{per_s / 1e6:.2f} M/s"
                else:
                    thr = f"{per_s:,.0f} /s"
            out(f"| {name} | {fmt_ns(r['cpu_ns'])} | {thr} |")
        out("")

    # ---- targets
    targets = []

    def target(name, measured, met, note=""):
        targets.append({"target": name, "measured": measured, "met": met, "note": note})

    def ratio_target(name, config, key, need, higher=True):
        g = gain(m(config, key), m(BASELINE, key), higher)
        if g is None:
            return target(name, "not measured", None)
        target(name, f"{g:.2f}×", g >= need)

    if tunnel:
        ratio_target("TCP 1 stream: wgate→wgate ≥ 4× wireguard-go→wireguard-go", "wgate-wgate", "tcp1_mbps", 4)
        ratio_target("TCP 1 stream: wgate→wireguard-go ≥ 1.5×", "wgate-wggo", "tcp1_mbps", 1.5)
        ratio_target("TCP 4 streams: wgate→wgate ≥ 4×", "wgate-wgate", "tcp4_mbps", 4)
        ratio_target("TCP 4 streams: wgate→wireguard-go ≥ 1.5×", "wgate-wggo", "tcp4_mbps", 1.5)
        for size in ("1400", "64"):
            g = gain(m("wgate-wgate", f"udp{size}_kpps"), m(BASELINE, f"udp{size}_kpps"), True)
            gmax = gain(m("wgate-wgate", f"udp{size}_max_kpps"), m(BASELINE, f"udp{size}_max_kpps"), True)
            loss = m("wgate-wgate", f"udp{size}_loss_pct")
            # Met only when both ways of measuring say so.
            met = None if g is None else (g >= 3 and (gmax is None or gmax >= 3))
            target(f"UDP {size}-byte datagrams: wgate→wgate packets/s ≥ 3×",
                   "not measured" if g is None else f"{g:.2f}× at full offered load (loss {fmt('{:.1f}', loss)} % vs "
                   f"{fmt('{:.1f}', m(BASELINE, f'udp{size}_loss_pct'))} %); "
                   + ("highest rate with ≤ 1 % loss not measured" if gmax is None else
                      f"{gmax:.2f}× at the highest rate with ≤ 1 % loss"),
                   met)
        for which, title in (("idle", "idle"), ("load", "under a bulk transfer")):
            a, b = m("wgate-wgate", f"ping_{which}_p50_ms"), m(BASELINE, f"ping_{which}_p50_ms")
            a99, b99 = m("wgate-wgate", f"ping_{which}_p99_ms"), m(BASELINE, f"ping_{which}_p99_ms")
            target(f"ping RTT {title}: wgate→wgate p50 no worse than wireguard-go's",
                   "not measured" if a is None or b is None else
                   f"p50 {a:.3f} vs {b:.3f} ms (p99 {fmt('{:.3f}', a99)} vs {fmt('{:.3f}', b99)} ms)",
                   None if a is None or b is None else a <= b)
        key = "cpufixed_cycles_per_byte" if m("wgate-wgate", "cpufixed_cycles_per_byte") else "cpufixed_cpu_ns_per_byte"
        g = gain(m("wgate-wgate", key), m(BASELINE, key), False)
        target("CPU per transferred byte at the same rate: ≥ 3× lower than wireguard-go",
               "not measured" if g is None else f"{g:.2f}× lower ({key.split('_', 1)[1]}: "
               f"{m('wgate-wgate', key):.3f} vs {m(BASELINE, key):.3f})", None if g is None else g >= 3)
    if daemon:
        # "On one core": handshakes per CPU-second of the daemon (robust when
        # the core is shared); the wall-clock rate of the pinned daemon beside it.
        per_cpu = m("wgated", "hs_udp_per_cpu_s")
        if ("wgated", "hs_udp_per_s") in values:
            target("≥ 5,000 responder handshakes/s on one core",
                   "not measured" if per_cpu is None else
                   f"{per_cpu:.0f} per CPU-second of wgated over UDP ({fmt('{:.0f}', m('wgated', 'hs_udp_per_s'))}/s "
                   f"wall clock pinned to one shared core; core in-process {fmt('{:.0f}', m('wgated', 'hs_inproc_per_s'))}"
                   f"/s; wireguard-go {fmt('{:.0f}', m('wireguard-go', 'hs_udp_per_cpu_s'))} per CPU-second)",
                   None if per_cpu is None else per_cpu >= 5000)
        retries = [v for v in values.get(("wgated", "flood_retries"), [])]
        completed = values.get(("wgated", "flood_completed"), [])
        if completed:
            ok = all(c == 1 for c in completed) and all(r is not None and r <= 2 for r in retries)
            worst = max((r for r in retries if r is not None), default=None)
            target("under an invalid-initiation flood the legitimate peer completes within 2 retries",
                   f"retries per round {retries} (worst {worst}), completed {sum(1 for c in completed if c == 1)}"
                   f"/{len(completed)}", ok)
        if ("wgated", "scale_setconf_s") in values:
            s = m("wgated", "scale_setconf_s")
            target(f"{settings['scale_peers']:,} peers with one /32 each through UAPI in < 2 s",
                   "refused by wgated (too many peers?)" if s is None else
                   f"{s:.2f} s (at {settings['scale_cmp_peers']:,} peers: wgated "
                   f"{fmt('{:.2f}', m('wgated', 'scalecmp_setconf_s'))} s, wireguard-go "
                   f"{fmt('{:.2f}', m('wireguard-go', 'scalecmp_setconf_s'))} s)",
                   s is not None and s < 2)
        b, n = m("wgated", "scale_bytes_per_peer"), settings.get("scale_peers", 0)
        if b is None:
            b, n = m("wgated", "scalecmp_bytes_per_peer"), settings.get("scale_cmp_peers", 0)
        if b is not None:
            target("idle RSS < 1 KiB per peer beyond the base",
                   f"{b:.0f} B/peer at {n:,} peers (wireguard-go "
                   f"{fmt('{:.0f}', m('wireguard-go', 'scalecmp_bytes_per_peer'))} B/peer at "
                   f"{settings.get('scale_cmp_peers', 0):,})", b < 1024)
    lookup = micro.get("BM_AllowedIpsLookupV4/100000", {})
    if lookup.get("items_per_s"):
        target("allowed-IPs lookup > 20 M/s with 100,000 prefixes (Google Benchmark)",
               f"{lookup['items_per_s'] / 1e6:.1f} M/s", lookup["items_per_s"] > 20e6)

    if targets:
        out("## Targets")
        out("")
        out("| target | measured | met |")
        out("|---|---|:-:|")
        for t in targets:
            met = "—" if t["met"] is None else ("**met**" if t["met"] else "not met")
            out(f"| {t['target']} | {t['measured']} | {met} |")
        out("")

    text = "\n".join(lines)
    print(text)
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "latest.md"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(outdir, "latest.json"), "w") as f:
        json.dump({"machine": mach, "settings": settings, "results": results, "targets": targets,
                   "raw": raw}, f, indent=1)
        f.write("\n")


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "machine" and len(sys.argv) == 4:
        json.dump(machine(sys.argv[2], sys.argv[3]), sys.stdout, indent=1)
        print()
    elif len(sys.argv) == 7 and sys.argv[1] == "report":
        report(*sys.argv[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
