"""The collector phase of check.py: runs the real collector (a carried Node binary, the built bundle and
koffi's native module, nothing built here) while the training loop runs, and compares every GPU field the
collector reports with independent readers of the same driver: NVML through ctypes, `nvidia-smi -q -x` and
pynvml (each where present), within the tolerances in FIELDS. Also checks that the training run appears
with its scalars, and reads the collector's own tick cost (its NVML sample through koffi, in its worker).

Used by check.py only (python3 test/real-gpu/check.py ...); no third-party imports.
"""

import ctypes
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import time
import traceback
import urllib.request
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
CARRY = os.path.join(HERE, ".carry")
MIB = 1 << 20
SUCCESS = 0
ERROR_INSUFFICIENT_SIZE = 7


# ---------- what travels: Node, the bundle, koffi ----------


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def manifest():
    try:
        with open(os.path.join(CARRY, "MANIFEST.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def find_node(rep, work, node_arg):
    """A Node binary: --node, else the carried node.xz unpacked with lzma, else `node` on PATH."""
    if node_arg:
        return _node_version(rep, node_arg, "--node")
    xz = os.path.join(CARRY, "node.xz")
    if os.path.exists(xz):
        m = manifest() or {}
        t0 = time.monotonic()
        out = os.path.join(work, "node")
        try:
            import lzma  # in CPython's standard library where it was built with liblzma
        except ImportError:
            lzma = None
        if lzma is not None:
            with lzma.open(xz) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        elif shutil.which("xz"):
            with open(out, "wb") as dst:
                subprocess.run(["xz", "-dc", xz], stdout=dst, check=True)
        else:
            rep.fail("Node binary (carried node.xz)", "-", "neither Python's lzma module nor xz is here to unpack it")
            return None
        os.chmod(out, 0o755)
        want = (m.get("node") or {}).get("sha256")
        got = _sha256(out)
        if want and want != got:
            rep.fail("Node binary (carried node.xz)", got[:16], "sha256 differs from MANIFEST.json (%s): rerun prepare.sh" % want[:16])
            return None
        rep.ok(
            "Node binary unpacked (carried node.xz)",
            "%.1f MiB xz -> %.1f MiB in %.1f s" % (os.path.getsize(xz) / MIB, os.path.getsize(out) / MIB, time.monotonic() - t0),
            "sha256 matches MANIFEST.json" if want else "no MANIFEST.json to compare",
        )
        return _node_version(rep, out, (m.get("node") or {}).get("package", "node.xz"))
    found = shutil.which("node")
    if found:
        return _node_version(rep, found, "node on PATH")
    rep.fail("Node binary", "-", "none: run test/real-gpu/prepare.sh where npm works and carry test/real-gpu/.carry")
    return None


def _node_version(rep, path, what):
    try:
        v = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError) as e:
        rep.fail("Node binary runs", path, repr(e))
        return None
    rep.expect("Node binary runs (%s)" % what, v, re.match(r"^v\d+\.", v or ""), "no version from %s" % path)
    return path if v else None


def find_bundle(rep, bundle_arg=None):
    """The collector bundle: --bundle, else the carried one (koffi next to it, as the SSH deploy lays it out), else dist/."""
    if bundle_arg:
        rep.expect("collector bundle (--bundle)", bundle_arg, os.path.exists(bundle_arg), "missing")
        return bundle_arg if os.path.exists(bundle_arg) else None
    carried = os.path.join(CARRY, "collector.js")
    if os.path.exists(carried):
        m = (manifest() or {}).get("files", {})
        bad = [f for f in ("collector.js", "koffi-linux-x64.node") if f in m and os.path.exists(os.path.join(CARRY, f)) and _sha256(os.path.join(CARRY, f)) != m[f]["sha256"]]
        koffi = os.path.exists(os.path.join(CARRY, "koffi-linux-x64.node"))
        rep.expect(
            "collector bundle (carried)",
            "%.2f MiB, koffi %s" % (os.path.getsize(carried) / MIB, "next to it" if koffi else "MISSING"),
            koffi and not bad,
            "sha256 differs from MANIFEST.json: %s" % bad if bad else "koffi-linux-x64.node missing: NVML would fall back to nvidia-smi",
        )
        return carried
    dist = os.path.join(REPO, "dist", "collector.js")
    if os.path.exists(dist):
        rep.ok("collector bundle (dist/)", "%.2f MiB" % (os.path.getsize(dist) / MIB), "not carried: built in this checkout")
        return dist
    rep.fail("collector bundle", "-", "no test/real-gpu/.carry/collector.js nor dist/collector.js: run test/real-gpu/prepare.sh")
    return None


def node_flags():
    """The flags every launcher passes (protocol/collector-node-flags.ts)."""
    with open(os.path.join(REPO, "protocol", "collector-node-flags.ts")) as f:
        m = re.search(r"COLLECTOR_NODE_FLAGS[^=]*=\s*\[([^\]]*)\]", f.read())
    return re.findall(r"'([^']*)'", m.group(1)) if m else []


# ---------- the running collector ----------


class Collector:
    def __init__(self, node, bundle, work, nvml_path=None, env=None, interval=1.0):
        self.token = secrets.token_hex(16)
        self.work = work
        self.data = os.path.join(work, "collector-data")
        cfg = {
            "gpu": {"backend": "nvml", **({"nvmlPath": nvml_path} if nvml_path else {})},
            "postgres": False,
            "redis": False,
            "docker": False,
            "models": False,
        }
        self.config = os.path.join(work, "collector-config.json")
        with open(self.config, "w") as f:
            json.dump(cfg, f, indent=1)
        self.out_path = os.path.join(work, "collector.stdout")
        self.err_path = os.path.join(work, "collector.stderr")
        e = {k: v for k, v in os.environ.items() if not k.startswith("RIGWATCH_")}
        e.update(env or {})
        # The token goes through the environment, as the extension and the SSH start script pass it.
        e["RIGWATCH_TOKEN"] = self.token
        self.argv = [node, *node_flags(), bundle, "--port", "0", "--host", "127.0.0.1", "--data-dir", self.data, "--interval", str(interval), "--config", self.config]
        self.proc = subprocess.Popen(self.argv, env=e, stdout=open(self.out_path, "w"), stderr=open(self.err_path, "w"), stdin=subprocess.DEVNULL)
        self.port = None
        deadline = time.time() + 30
        while time.time() < deadline and self.proc.poll() is None:
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)/", self.text(self.out_path))
            if m:
                self.port = int(m.group(1))
                break
            time.sleep(0.1)

    def text(self, path):
        try:
            with open(path, errors="replace") as f:
                return f.read().replace(self.token, "<token>")
        except OSError:
            return ""

    def get(self, path, raw=False):
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.port, path), headers={"Authorization": "Bearer " + self.token})
        with urllib.request.urlopen(req, timeout=10) as r:
            body = r.read().decode()
        return body if raw else json.loads(body)

    def latest(self):
        return self.get("/api/current").get("latest") or {}

    def wait_tick_after(self, t_ms, timeout=10.0):
        """The first snapshot newer than t_ms (epoch ms)."""
        end = time.time() + timeout
        while time.time() < end:
            s = self.latest()
            if s.get("t", 0) > t_ms:
                return s
            time.sleep(0.1)
        return None

    def stop(self, out):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if out:
            # Its logs, the token masked (its stdout prints the dashboard URL with the token).
            for p, name in ((self.out_path, "collector.stdout.txt"), (self.err_path, "collector.stderr.txt")):
                with open(os.path.join(out, name), "w") as f:
                    f.write(self.text(p))


# ---------- independent readers ----------


class Memory_v2(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint), ("total", ctypes.c_ulonglong), ("reserved", ctypes.c_ulonglong), ("free", ctypes.c_ulonglong), ("used", ctypes.c_ulonglong)]


class Memory(ctypes.Structure):
    _fields_ = [("total", ctypes.c_ulonglong), ("free", ctypes.c_ulonglong), ("used", ctypes.c_ulonglong)]


class Utilization(ctypes.Structure):
    _fields_ = [("gpu", ctypes.c_uint), ("memory", ctypes.c_uint)]


class ViolationTime(ctypes.Structure):
    _fields_ = [("referenceTime", ctypes.c_ulonglong), ("violationTime", ctypes.c_ulonglong)]


class CtypesReader:
    """One device through ctypes, in the collector's units; None where the call fails (with why)."""

    def __init__(self, nv, h):
        self.nv, self.h, self.why = nv, h, {}
        self.prev_violation = {}

    def _u32(self, name, *args):
        v = ctypes.c_uint(0)
        rc = self.nv.call(name, self.h, *args, ctypes.byref(v))
        return (v.value, None) if rc == SUCCESS else (None, self.nv.err(rc))

    def _u64(self, name, *args):
        v = ctypes.c_ulonglong(0)
        rc = self.nv.call(name, self.h, *args, ctypes.byref(v))
        return (v.value, None) if rc == SUCCESS else (None, self.nv.err(rc))

    def read(self):
        r, why = {}, {}

        def put(key, pair, scale=1.0):
            v, w = pair
            r[key] = None if v is None else v * scale
            if w:
                why[key] = w

        u = Utilization()
        rc = self.nv.call("nvmlDeviceGetUtilizationRates", self.h, ctypes.byref(u))
        put("utilization_ratio", (u.gpu, None) if rc == SUCCESS else (None, self.nv.err(rc)), 0.01)
        put("memory_utilization_ratio", (u.memory, None) if rc == SUCCESS else (None, self.nv.err(rc)), 0.01)
        m2 = Memory_v2(version=ctypes.sizeof(Memory_v2) | (2 << 24))
        rc = self.nv.call("nvmlDeviceGetMemoryInfo_v2", self.h, ctypes.byref(m2))
        if rc == SUCCESS:
            r.update(memory_total_bytes=m2.total, memory_reserved_bytes=m2.reserved, memory_used_bytes=m2.used)
            r["memory_used_ratio"] = m2.used / m2.total if m2.total else None
        else:
            m1 = Memory()
            rc1 = self.nv.call("nvmlDeviceGetMemoryInfo", self.h, ctypes.byref(m1))
            if rc1 == SUCCESS:
                r.update(memory_total_bytes=m1.total, memory_used_bytes=m1.used, memory_used_ratio=m1.used / m1.total if m1.total else None)
        put("temperature_celsius", self._u32("nvmlDeviceGetTemperature", 0))
        put("power_watts", self._u32("nvmlDeviceGetPowerUsage"), 0.001)
        put("power_limit_watts", self._u32("nvmlDeviceGetEnforcedPowerLimit"), 0.001)
        put("fan_ratio", self._u32("nvmlDeviceGetFanSpeed"), 0.01)
        put("sm_clock_hertz", self._u32("nvmlDeviceGetClockInfo", 1), 1e6)
        put("memory_clock_hertz", self._u32("nvmlDeviceGetClockInfo", 2), 1e6)
        put("sm_clock_max_hertz", self._u32("nvmlDeviceGetMaxClockInfo", 1), 1e6)
        put("memory_clock_max_hertz", self._u32("nvmlDeviceGetMaxClockInfo", 2), 1e6)
        put("pcie_rx_bytes_per_second", self._u32("nvmlDeviceGetPcieThroughput", 1), 1024)
        put("pcie_tx_bytes_per_second", self._u32("nvmlDeviceGetPcieThroughput", 0), 1024)
        for key, fn in (("encoder_utilization_ratio", "nvmlDeviceGetEncoderUtilization"), ("decoder_utilization_ratio", "nvmlDeviceGetDecoderUtilization")):
            v, p = ctypes.c_uint(0), ctypes.c_uint(0)
            rc = self.nv.call(fn, self.h, ctypes.byref(v), ctypes.byref(p))
            put(key, (v.value, None) if rc == SUCCESS else (None, self.nv.err(rc)), 0.01)
        ps = self._u32("nvmlDeviceGetPerformanceState")
        put("pstate_count", (None, "unknown P-state") if ps[0] == 32 else ps)
        put("temperature_slowdown_celsius", self._u32("nvmlDeviceGetTemperatureThreshold", 1))
        put("temperature_shutdown_celsius", self._u32("nvmlDeviceGetTemperatureThreshold", 0))
        ecc = {}
        for name, et, ct in (("vc", 0, 0), ("vu", 1, 0), ("ac", 0, 1), ("au", 1, 1)):
            ecc[name] = self._u64("nvmlDeviceGetTotalEccErrors", et, ct)
        put("ecc_volatile_corrected_count", ecc["vc"])
        put("ecc_volatile_uncorrected_count", ecc["vu"])
        put("ecc_aggregate_corrected_count", ecc["ac"])
        put("ecc_aggregate_uncorrected_count", ecc["au"])
        if ecc["vc"][0] is not None and ecc["vu"][0] is not None:
            r["ecc_volatile_errors_count"] = ecc["vc"][0] + ecc["vu"][0]
        else:
            put("ecc_volatile_errors_count", (None, ecc["vc"][1] or ecc["vu"][1]))
        c, un, pend, fail = (ctypes.c_uint(0) for _ in range(4))
        rc = self.nv.call("nvmlDeviceGetRemappedRows", self.h, ctypes.byref(c), ctypes.byref(un), ctypes.byref(pend), ctypes.byref(fail))
        remap = rc == SUCCESS
        for key, v in (("remapped_rows_corrected_count", c), ("remapped_rows_uncorrected_count", un), ("remap_pending_state", pend), ("remap_failure_state", fail)):
            put(key, ((1 if v.value else 0) if key.endswith("_state") else v.value, None) if remap else (None, self.nv.err(rc)))
        if not remap:
            pages, w = 0, None
            for cause in (0, 1):
                n = ctypes.c_uint(0)
                rc = self.nv.call("nvmlDeviceGetRetiredPages", self.h, cause, ctypes.byref(n), None)
                if rc in (SUCCESS, ERROR_INSUFFICIENT_SIZE):
                    pages += n.value
                else:
                    pages, w = None, self.nv.err(rc)
                    break
            put("retired_pages_count", (pages, w))
            pp = self._u32("nvmlDeviceGetRetiredPagesPendingStatus")
            put("retired_pages_pending_state", (None if pp[0] is None else (1 if pp[0] else 0), pp[1]))
        put("energy_joules", self._u64("nvmlDeviceGetTotalEnergyConsumption"), 0.001)
        now = time.time()
        for policy, key in ((0, "power_violation_ratio"), (1, "thermal_violation_ratio")):
            vt = ViolationTime()
            rc = self.nv.call("nvmlDeviceGetViolationStatus", self.h, policy, ctypes.byref(vt))
            if rc != SUCCESS:
                put(key, (None, self.nv.err(rc)))
                continue
            last = self.prev_violation.get(policy)
            self.prev_violation[policy] = (vt.referenceTime, vt.violationTime)
            if last and vt.referenceTime > last[0]:
                r[key] = min(1.0, max(0.0, (vt.violationTime - last[1]) / ((vt.referenceTime - last[0]) * 1000.0)))
            else:
                why[key] = "needs a previous reading (first round)"
        links, active, counters = 0, 0, [0, 0, 0]
        for link in range(18):
            a = ctypes.c_uint(0)
            rc = self.nv.call("nvmlDeviceGetNvLinkState", self.h, link, ctypes.byref(a))
            if rc != SUCCESS:
                continue
            links += 1
            if a.value:
                active += 1
                for k, cs in enumerate(((2, 3), (0,), (1,))):
                    for cnt in cs:
                        v = ctypes.c_ulonglong(0)
                        if self.nv.call("nvmlDeviceGetNvLinkErrorCounter", self.h, link, cnt, ctypes.byref(v)) == SUCCESS:
                            counters[k] += v.value
        if active:
            r.update(nvlink_links_active_count=active, nvlink_crc_errors_count=counters[0], nvlink_replay_errors_count=counters[1], nvlink_recovery_errors_count=counters[2])
        else:
            for k in ("nvlink_links_active_count", "nvlink_crc_errors_count", "nvlink_replay_errors_count", "nvlink_recovery_errors_count", "nvlink_links_count"):
                why[k] = "no active NVLink (%d links answer)" % links
        self.why = why
        return r, now


def gpm_reference(nv, h, seconds=1.0):
    """GPM metrics over `seconds` through ctypes (Hopper+), in the collector's units; {} when unsupported."""
    from check import GpmMetricsGet, GpmSupport  # same directory; check.py defines the layouts once

    sup = GpmSupport(version=1)
    if nv.call("nvmlGpmQueryDeviceSupport", h, ctypes.byref(sup)) != SUCCESS or not sup.isSupportedDevice:
        return {}
    s1, s2 = ctypes.c_void_p(), ctypes.c_void_p()
    if nv.call("nvmlGpmSampleAlloc", ctypes.byref(s1)) != SUCCESS or nv.call("nvmlGpmSampleAlloc", ctypes.byref(s2)) != SUCCESS:
        return {}
    try:
        nv.call("nvmlGpmSampleGet", h, s1)
        time.sleep(seconds)
        nv.call("nvmlGpmSampleGet", h, s2)
        ids = [(2, "sm_activity_ratio", 0.01), (3, "sm_occupancy_ratio", 0.01), (5, "tensor_activity_ratio", 0.01), (10, "dram_bandwidth_ratio", 0.01), (60, "nvlink_rx_bytes_per_second", MIB), (61, "nvlink_tx_bytes_per_second", MIB)]
        mg = GpmMetricsGet(version=1, numMetrics=len(ids), sample1=s1, sample2=s2)
        for k, (mid, _, _) in enumerate(ids):
            mg.metrics[k].metricId = mid
        if nv.call("nvmlGpmMetricsGet", ctypes.byref(mg)) != SUCCESS:
            return {}
        return {key: mg.metrics[k].value * scale for k, (_, key, scale) in enumerate(ids) if mg.metrics[k].nvmlReturn == SUCCESS}
    finally:
        nv.call("nvmlGpmSampleFree", s1)
        nv.call("nvmlGpmSampleFree", s2)


def _num(text, unit=None):
    """'81559 MiB' → 81559.0; 'N/A', '[Not Supported]', '' → None."""
    if text is None:
        return None
    m = re.match(r"^\s*(-?[\d.]+)\s*(\S*)\s*$", text)
    if not m:
        return None
    if unit and m.group(2) and m.group(2) != unit:
        return None
    return float(m.group(1))


def _first(g, *paths):
    for p in paths:
        t = g.findtext(p)
        if t is not None and t.strip() not in ("", "N/A", "[N/A]", "[Not Supported]"):
            return t.strip()
    return None


def smi_read(exe, out_dir=None, round_no=0):
    """`nvidia-smi -q -x` parsed per GPU (keyed by normalised bus id) in the collector's units, or an error string."""
    try:
        res = subprocess.run([exe, "-q", "-x"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as e:
        return "nvidia-smi -q -x: %r" % e
    if res.returncode != 0:
        return "nvidia-smi -q -x exited %d: %s" % (res.returncode, res.stderr.strip()[:200])
    if out_dir and round_no == 0:
        with open(os.path.join(out_dir, "nvidia-smi-q-during-collector.xml"), "w") as f:
            f.write(res.stdout)
    try:
        root = ET.fromstring(res.stdout)
    except ET.ParseError as e:
        return "nvidia-smi -q -x is not XML: %s" % e
    gpus = {}
    top = {"driver_version": _first(root, "driver_version"), "cuda_version": _first(root, "cuda_version")}
    for g in root.findall("gpu"):
        v = {}
        pct = lambda *p: None if _num(_first(g, *p), "%") is None else _num(_first(g, *p), "%") / 100  # noqa: E731
        mib = lambda *p: None if _num(_first(g, *p), "MiB") is None else _num(_first(g, *p), "MiB") * MIB  # noqa: E731
        v["utilization_ratio"] = pct("utilization/gpu_util")
        v["memory_utilization_ratio"] = pct("utilization/memory_util")
        v["encoder_utilization_ratio"] = pct("utilization/encoder_util")
        v["decoder_utilization_ratio"] = pct("utilization/decoder_util")
        v["memory_total_bytes"] = mib("fb_memory_usage/total")
        v["memory_reserved_bytes"] = mib("fb_memory_usage/reserved")
        v["memory_used_bytes"] = mib("fb_memory_usage/used")
        if v["memory_total_bytes"] and v["memory_used_bytes"] is not None:
            v["memory_used_ratio"] = v["memory_used_bytes"] / v["memory_total_bytes"]
        v["temperature_celsius"] = _num(_first(g, "temperature/gpu_temp"), "C")
        v["temperature_slowdown_celsius"] = _num(_first(g, "temperature/gpu_temp_slow_threshold"), "C")
        v["temperature_shutdown_celsius"] = _num(_first(g, "temperature/gpu_temp_max_threshold"), "C")
        v["power_watts"] = _num(_first(g, "gpu_power_readings/instant_power_draw", "gpu_power_readings/power_draw", "power_readings/power_draw"), "W")
        v["power_limit_watts"] = _num(_first(g, "gpu_power_readings/current_power_limit", "power_readings/enforced_power_limit", "power_readings/power_limit"), "W")
        v["fan_ratio"] = pct("fan_speed")
        for key, path in (("sm_clock_hertz", "clocks/sm_clock"), ("memory_clock_hertz", "clocks/mem_clock"), ("sm_clock_max_hertz", "max_clocks/sm_clock"), ("memory_clock_max_hertz", "max_clocks/mem_clock")):
            x = _num(_first(g, path), "MHz")
            v[key] = None if x is None else x * 1e6
        for key, path in (("pcie_rx_bytes_per_second", "pci/rx_util"), ("pcie_tx_bytes_per_second", "pci/tx_util")):
            x = _num(_first(g, path), "KB/s")
            v[key] = None if x is None else x * 1024
        ps = _first(g, "performance_state")
        v["pstate_count"] = float(ps[1:]) if ps and re.match(r"^P\d+$", ps) else None
        for scope in ("volatile", "aggregate"):
            e = g.find("ecc_errors/" + scope)
            if e is None:
                continue
            kids = {c.tag: _num(c.text) for c in e}
            if "dram_correctable" in kids or "sram_correctable" in kids:  # driver 535+ layout
                corr = [kids.get("sram_correctable"), kids.get("dram_correctable")]
                split = [k for k in ("sram_uncorrectable_parity", "sram_uncorrectable_secded") if k in kids]
                unc = [kids.get(k) for k in (split or ["sram_uncorrectable"]) + ["dram_uncorrectable"]]
            else:  # single_bit / double_bit totals
                corr = [_num(_first(e, "single_bit/total"))]
                unc = [_num(_first(e, "double_bit/total"))]
            if all(x is not None for x in corr + unc) and corr:
                v["ecc_%s_corrected_count" % scope] = sum(corr)
                v["ecc_%s_uncorrected_count" % scope] = sum(unc)
        if "ecc_volatile_corrected_count" in v:
            v["ecc_volatile_errors_count"] = v["ecc_volatile_corrected_count"] + v["ecc_volatile_uncorrected_count"]
        rr = g.find("remapped_rows")
        if rr is not None and _num(_first(rr, "remapped_row_corr")) is not None:
            v["remapped_rows_corrected_count"] = _num(_first(rr, "remapped_row_corr"))
            v["remapped_rows_uncorrected_count"] = _num(_first(rr, "remapped_row_unc"))
            v["remap_pending_state"] = 1.0 if (_first(rr, "remapped_row_pending") or "").lower() == "yes" else 0.0
            v["remap_failure_state"] = 1.0 if (_first(rr, "remapped_row_failure") or "").lower() == "yes" else 0.0
        v["_name"] = _first(g, "product_name")
        v["_uuid"] = _first(g, "uuid")
        v["_procs"] = {}
        for p in g.findall("processes/process_info"):
            pid = _num(_first(p, "pid"))
            mem = _num(_first(p, "used_memory"), "MiB")
            if pid is not None:
                v["_procs"][int(pid)] = None if mem is None else mem * MIB
        gpus[norm_bus(g.get("id") or "")] = v
    return {"top": top, "gpus": gpus}


def pynvml_read(pynvml, h):
    """The same fields through NVIDIA's pynvml; a field it cannot read is left out."""
    r = {}

    def t(key, fn, scale=1.0):
        try:
            v = fn()
            r[key] = None if v is None else v * scale
        except Exception:  # pynvml.NVMLError and AttributeError on old bindings
            pass

    N = pynvml
    t("utilization_ratio", lambda: N.nvmlDeviceGetUtilizationRates(h).gpu, 0.01)
    t("memory_utilization_ratio", lambda: N.nvmlDeviceGetUtilizationRates(h).memory, 0.01)
    try:
        m = N.nvmlDeviceGetMemoryInfo(h, version=N.nvmlMemory_v2)
        r.update(memory_total_bytes=m.total, memory_reserved_bytes=m.reserved, memory_used_bytes=m.used, memory_used_ratio=m.used / m.total)
    except Exception:
        t("memory_total_bytes", lambda: N.nvmlDeviceGetMemoryInfo(h).total)
    t("temperature_celsius", lambda: N.nvmlDeviceGetTemperature(h, 0))
    t("temperature_slowdown_celsius", lambda: N.nvmlDeviceGetTemperatureThreshold(h, 1))
    t("temperature_shutdown_celsius", lambda: N.nvmlDeviceGetTemperatureThreshold(h, 0))
    t("power_watts", lambda: N.nvmlDeviceGetPowerUsage(h), 0.001)
    t("power_limit_watts", lambda: N.nvmlDeviceGetEnforcedPowerLimit(h), 0.001)
    t("fan_ratio", lambda: N.nvmlDeviceGetFanSpeed(h), 0.01)
    t("sm_clock_hertz", lambda: N.nvmlDeviceGetClockInfo(h, 1), 1e6)
    t("memory_clock_hertz", lambda: N.nvmlDeviceGetClockInfo(h, 2), 1e6)
    t("sm_clock_max_hertz", lambda: N.nvmlDeviceGetMaxClockInfo(h, 1), 1e6)
    t("memory_clock_max_hertz", lambda: N.nvmlDeviceGetMaxClockInfo(h, 2), 1e6)
    t("pcie_rx_bytes_per_second", lambda: N.nvmlDeviceGetPcieThroughput(h, 1), 1024)
    t("pcie_tx_bytes_per_second", lambda: N.nvmlDeviceGetPcieThroughput(h, 0), 1024)
    t("encoder_utilization_ratio", lambda: N.nvmlDeviceGetEncoderUtilization(h)[0], 0.01)
    t("decoder_utilization_ratio", lambda: N.nvmlDeviceGetDecoderUtilization(h)[0], 0.01)
    t("pstate_count", lambda: N.nvmlDeviceGetPerformanceState(h))
    t("ecc_volatile_corrected_count", lambda: N.nvmlDeviceGetTotalEccErrors(h, 0, 0))
    t("ecc_volatile_uncorrected_count", lambda: N.nvmlDeviceGetTotalEccErrors(h, 1, 0))
    t("ecc_aggregate_corrected_count", lambda: N.nvmlDeviceGetTotalEccErrors(h, 0, 1))
    t("ecc_aggregate_uncorrected_count", lambda: N.nvmlDeviceGetTotalEccErrors(h, 1, 1))
    if r.get("ecc_volatile_corrected_count") is not None and r.get("ecc_volatile_uncorrected_count") is not None:
        r["ecc_volatile_errors_count"] = r["ecc_volatile_corrected_count"] + r["ecc_volatile_uncorrected_count"]
    try:
        c, u, p, f = N.nvmlDeviceGetRemappedRows(h)
        r.update(remapped_rows_corrected_count=c, remapped_rows_uncorrected_count=u, remap_pending_state=1 if p else 0, remap_failure_state=1 if f else 0)
    except Exception:
        pass
    t("energy_joules", lambda: N.nvmlDeviceGetTotalEnergyConsumption(h), 0.001)
    try:
        r["_procs"] = {q.pid: q.usedGpuMemory for q in N.nvmlDeviceGetComputeRunningProcesses(h)}
    except Exception:
        pass
    return r


def norm_bus(s):
    s = (s or "").strip().lower()
    m = re.match(r"^([0-9a-f]+):([0-9a-f]+):([0-9a-f]+)\.([0-9a-f])$", s)
    return "%04x:%02x:%02x.%s" % (int(m.group(1), 16) & 0xFFFF, int(m.group(2), 16), int(m.group(3), 16), m.group(4)) if m else s


# ---------- the fields and their tolerances ----------

# metric → (unit shown, tolerance(ref, ctx) in the collector's units, what the tolerance stands for).
# Readings are taken right after the collector's snapshot (≤ 1 tick apart) while the training runs, so
# values that move with the load get a tolerance for one tick of movement; static ones must be equal
# (nvidia-smi rounds memory to MiB and power to 0.01 W). A field passes when one of the rounds agrees.
def _pct(points):
    return lambda ref, ctx: points / 100.0


def _rel(frac, floor):
    return lambda ref, ctx: max(floor, abs(ref) * frac)


def _abs(x):
    return lambda ref, ctx: x


FIELDS = {
    "utilization_ratio": ("ratio", _pct(15), "±15 points (NVML averages over its own sample period)"),
    "memory_utilization_ratio": ("ratio", _pct(15), "±15 points"),
    "memory_used_bytes": ("B", _abs(64 * MIB), "±64 MiB (allocator growth between readings)"),
    "memory_total_bytes": ("B", _abs(1 * MIB), "±1 MiB (nvidia-smi rounds to MiB)"),
    "memory_reserved_bytes": ("B", _abs(1 * MIB), "±1 MiB"),
    "memory_used_ratio": ("ratio", lambda ref, ctx: 64 * MIB / (ctx["total"] or (80 << 30)) + 0.001, "as memory_used_bytes"),
    "temperature_celsius": ("C", _abs(3), "±3 C"),
    "power_watts": ("W", _rel(0.20, 15.0), "±max(15 W, 20 %) (draw moves within a tick)"),
    "power_limit_watts": ("W", _abs(1.0), "±1 W"),
    "fan_ratio": ("ratio", _pct(5), "±5 points"),
    "sm_clock_hertz": ("Hz", _rel(0.10, 30e6), "±max(30 MHz, 10 %) (boost moves)"),
    "memory_clock_hertz": ("Hz", _rel(0.02, 1e6), "±2 %"),
    "sm_clock_max_hertz": ("Hz", _abs(1e6), "±1 MHz (static)"),
    "memory_clock_max_hertz": ("Hz", _abs(1e6), "±1 MHz (static)"),
    "pcie_rx_bytes_per_second": ("B/s", _rel(0.5, 200e6), "±max(200 MB/s, 50 %) (a 20 ms window)"),
    "pcie_tx_bytes_per_second": ("B/s", _rel(0.5, 200e6), "±max(200 MB/s, 50 %)"),
    "encoder_utilization_ratio": ("ratio", _pct(5), "±5 points"),
    "decoder_utilization_ratio": ("ratio", _pct(5), "±5 points"),
    "pstate_count": ("", _abs(0), "equal"),
    "ecc_volatile_errors_count": ("", _abs(0), "equal"),
    "temperature_slowdown_celsius": ("C", _abs(0), "equal (static)"),
    "temperature_shutdown_celsius": ("C", _abs(0), "equal (static)"),
    "ecc_volatile_corrected_count": ("", _abs(0), "equal"),
    "ecc_volatile_uncorrected_count": ("", _abs(0), "equal"),
    "ecc_aggregate_corrected_count": ("", _abs(0), "equal"),
    "ecc_aggregate_uncorrected_count": ("", _abs(0), "equal"),
    "remapped_rows_corrected_count": ("", _abs(0), "equal"),
    "remapped_rows_uncorrected_count": ("", _abs(0), "equal"),
    "remap_pending_state": ("", _abs(0), "equal"),
    "remap_failure_state": ("", _abs(0), "equal"),
    "retired_pages_count": ("", _abs(0), "equal"),
    "retired_pages_pending_state": ("", _abs(0), "equal"),
    # The counter grows by the draw: allow the limit's worth for the time between the two readings + 1 s.
    "energy_joules": ("J", lambda ref, ctx: ctx["limit_w"] * (abs(ctx["dt"]) + 1.0), "±power limit × (Δt + 1 s)"),
    "power_violation_ratio": ("ratio", _pct(25), "±25 points (different intervals)"),
    "thermal_violation_ratio": ("ratio", _pct(25), "±25 points (different intervals)"),
    "hw_slowdown_ratio": ("ratio", None, "range 0..1 (derived from thermal violation time or the reasons mask)"),
    "sm_activity_ratio": ("ratio", _pct(20), "±20 points (GPM over a different 1 s)"),
    "sm_occupancy_ratio": ("ratio", _pct(20), "±20 points"),
    "tensor_activity_ratio": ("ratio", _pct(20), "±20 points"),
    "dram_bandwidth_ratio": ("ratio", _pct(20), "±20 points"),
    "nvlink_rx_bytes_per_second": ("B/s", _rel(0.5, 100e6), "±max(100 MB/s, 50 %)"),
    "nvlink_tx_bytes_per_second": ("B/s", _rel(0.5, 100e6), "±max(100 MB/s, 50 %)"),
    "nvlink_links_count": ("", None, "links active at the collector's start (≥ active now)"),
    "nvlink_links_active_count": ("", _abs(0), "equal"),
    "nvlink_crc_errors_count": ("", _abs(0), "equal (the collector refreshes them every 10 s)"),
    "nvlink_replay_errors_count": ("", _abs(0), "equal"),
    "nvlink_recovery_errors_count": ("", _abs(0), "equal"),
}

# Fields that move with the load: compared again in the next round when a round disagrees.
MOVING = {
    "utilization_ratio",
    "memory_utilization_ratio",
    "memory_used_bytes",
    "memory_used_ratio",
    "temperature_celsius",
    "power_watts",
    "fan_ratio",
    "sm_clock_hertz",
    "memory_clock_hertz",
    "pcie_rx_bytes_per_second",
    "pcie_tx_bytes_per_second",
    "encoder_utilization_ratio",
    "decoder_utilization_ratio",
    "pstate_count",
    "energy_joules",
    "power_violation_ratio",
    "thermal_violation_ratio",
}

# The collector leaves these null by design in some cases.
NULL_BY_DESIGN = {
    "retired_pages_count": "read only on GPUs without row remapping",
    "retired_pages_pending_state": "read only on GPUs without row remapping",
    "power_violation_ratio": "null on the first interval",
    "thermal_violation_ratio": "null on the first interval",
}


def fmt(v, unit=""):
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    if unit == "B":
        return "%.1f MiB" % (v / MIB)
    if unit == "B/s":
        return "%.1f MB/s" % (v / 1e6)
    if unit == "Hz":
        return "%.0f MHz" % (v / 1e6)
    if unit == "ratio":
        return "%.3f" % v
    if unit in ("W", "J"):
        return "%.2f %s" % (v, unit)
    if unit == "C":
        return "%g C" % v
    return "%g" % v


class FieldTable:
    """Rows of field, collector, ctypes, nvidia-smi, pynvml, status, why; each also counted in the Report."""

    HEAD = ("field", "collector", "NVML ctypes", "nvidia-smi", "pynvml", "", "why")
    W = (40, 14, 14, 14, 14, 5)

    def __init__(self, rep):
        self.rep = rep
        self.rows = []

    def line(self, row):
        return " ".join(str(c)[:w].ljust(w) for c, w in zip(row, self.W)) + " " + str(row[6])

    def add(self, field, col, ct, smi, py, status, why):
        row = (field, col, ct, smi, py, status, why)
        self.rows.append(row)
        self.rep.rows.append(("field " + field, "collector %s | ctypes %s | smi %s | pynvml %s" % (col, ct, smi, py), status, why))
        print(self.line(row), flush=True)


def compare_value(metric, c, refs, ctx):
    """(status, why) for one metric: refs is [(label, value or None, why-none)]."""
    unit, tol_fn, tol_text = FIELDS[metric]
    have = [(lab, v) for lab, v, _ in refs if v is not None]
    if tol_fn is None:
        if c is None:
            return "n/a", "collector null (%s)" % tol_text
        ok = 0 <= c <= 1 if unit == "ratio" else c >= (ctx.get("nvlink_active") or 0)
        return ("ok" if ok else "FAIL"), tol_text
    if c is None:
        if not have:
            reasons = sorted({w for _, v, w in refs if w})
            return "n/a", "not readable on this GPU: %s" % ("; ".join(reasons)[:120] or "no reader answers")
        if metric in NULL_BY_DESIGN:
            return "n/a", "collector null: %s" % NULL_BY_DESIGN[metric]
        return "FAIL", "collector null but %s read %s" % (have[0][0], fmt(have[0][1], unit))
    if not have:
        return "n/a", "collector only: no independent reader answers (%s)" % ("; ".join(sorted({w for _, v, w in refs if w}))[:100] or "-")
    bad = []
    for lab, v in have:
        tol = tol_fn(v, ctx)
        if abs(c - v) > tol + 1e-9:
            bad.append("%s off by %s" % (lab, fmt(abs(c - v), unit)))
    if bad:
        return "FAIL", "; ".join(bad) + " (tolerance %s)" % tol_text
    return "ok", "tolerance %s; checked against %s" % (tol_text, ", ".join(lab for lab, _ in have))


# ---------- the phase ----------


def run_phase(rep, args, nv, handles, train_pid, pynvml, smi_exe, work, nvml_path=None, collector_env=None, losses_file=None, train=None, fake_state=None):
    """Returns the readings for readings.json; adds rows to rep; stops the collector before returning."""
    result = {"rounds": [], "tick": [], "run": None}
    node = find_node(rep, work, args.node)
    bundle = find_bundle(rep, args.bundle)
    if not node or not bundle:
        return result
    t0 = time.monotonic()
    col = Collector(node, bundle, work, nvml_path=nvml_path, env=collector_env, interval=args.interval)
    if col.port is None:
        rep.fail("collector starts (node dist/collector.js)", "-", "no listening line within 30 s: %s" % col.text(col.err_path).strip()[-300:])
        col.stop(args.out)
        return result
    rep.ok("collector starts (token through RIGWATCH_TOKEN)", "port %d in %.1f s" % (col.port, time.monotonic() - t0), " ".join(node_flags()))
    try:
        _phase(rep, args, col, nv, handles, train_pid, pynvml, smi_exe, result, losses_file, train, fake_state)
    except Exception as e:  # a check script: report it as a row, keep the rest of the run and its outputs
        tb = traceback.extract_tb(e.__traceback__)[-1]
        rep.fail("collector phase", "-", "%s: %s (%s:%d)" % (type(e).__name__, e, os.path.basename(tb.filename), tb.lineno))
    finally:
        col.stop(args.out)
        rc = col.proc.returncode
        rep.expect("collector stops on SIGTERM", "exit %s" % rc, rc == 0, "stderr: %s" % col.text(col.err_path).strip()[-200:])
    return result


def _phase(rep, args, col, nv, handles, train_pid, pynvml, smi_exe, result, losses_file, train, fake_state):
    # Wait for a snapshot with the GPU source ready and the training process in it.
    deadline = time.time() + 30
    snap = None
    while time.time() < deadline:
        s = col.latest()
        procs = ((s.get("details") or {}).get("gpu") or {}).get("processes") or []
        if s.get("series", {}).get("gpu.0.memory_total_bytes") is not None and (train_pid is None or any(p.get("pid") == train_pid for p in procs)):
            snap = s
            break
        time.sleep(0.25)
    hello = col.get("/api/current")
    gsrc = next((x for x in hello.get("sources", []) if x.get("id") == "gpu"), {})
    gd = ((snap or col.latest()).get("details") or {}).get("gpu") or {}
    rep.expect("collector GPU source", "%s via %s: %s" % (gsrc.get("state"), gd.get("backend"), gsrc.get("description")), gsrc.get("state") == "ready" and gd.get("backend") == "nvml", "expected ready via NVML (koffi)")
    if snap is None:
        rep.fail("collector sees the training process", "-", "no snapshot listing pid %s within 30 s" % train_pid)
        snap = col.latest()
    devices = gd.get("devices") or []
    rep.expect("collector device count = NVML", len(devices), len(devices) == len(handles), "ctypes NVML counts %d" % len(handles))

    if fake_state is not None:
        # The fake's energy counter starts at each process's first call (the driver's is one for all):
        # a new start value resets it in both processes at their next call, so they count from the same moment.
        fake_state({"gpu.*.energy_mj": str(int(time.time()) % 1000000 * 1000)})
        time.sleep(0.05)
    readers = [CtypesReader(nv, h) for h in handles]
    for r in readers:
        r.read()  # a first reading for the violation-time deltas
    py_handles = []
    if pynvml is not None:
        try:
            py_handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(len(handles))]
        except Exception:
            py_handles = []
    gpm_ref = {i: gpm_reference(nv, h) for i, h in enumerate(handles)}

    table = FieldTable(rep)
    print("\n" + table.line(FieldTable.HEAD), flush=True)
    rounds = []
    last_t = time.time() * 1000  # every round's snapshot is newer than the readers' first reading
    for k in range(args.rounds):
        s = col.wait_tick_after(last_t) or col.latest()
        last_t = s.get("t", 0)
        ct = [r.read() for r in readers]
        sm = smi_read(smi_exe, args.out, k) if smi_exe else "nvidia-smi not on PATH"
        py = [pynvml_read(pynvml, h) for h in py_handles]
        rounds.append((s, ct, sm, py, [dict(r.why) for r in readers]))
        result["rounds"].append({"t": s.get("t"), "collector": {kk: v for kk, v in s.get("series", {}).items() if kk.startswith("gpu.")}, "ctypes": [c[0] for c in ct], "smi": sm if isinstance(sm, str) else {b: {kk: vv for kk, vv in g.items() if kk != "_procs"} for b, g in sm["gpus"].items()}, "pynvml": [{kk: vv for kk, vv in p.items() if kk != "_procs"} for p in py]})
        if k + 1 < args.rounds:
            time.sleep(0.3)

    def ref_cols(k, i, dev, metric):
        s, ct, sm, py, whys = rounds[k]
        c_val = ct[i][0].get(metric) if i < len(ct) else None
        if metric in gpm_ref.get(i, {}):
            c_val = gpm_ref[i][metric]
        c_why = whys[i].get(metric) if i < len(whys) else None
        if isinstance(sm, str):
            smi_val, smi_why = None, sm
        else:
            g = sm["gpus"].get(norm_bus(dev.get("pciBusId")))
            smi_val = None if g is None else g.get(metric)
            smi_why = "GPU not in nvidia-smi" if g is None else ("not in nvidia-smi -q -x" if metric not in g else "N/A in nvidia-smi")
        if pynvml is None:
            py_val, py_why = None, "pynvml not installed"
        elif i >= len(py):
            py_val, py_why = None, "pynvml has no handle"
        else:
            py_val, py_why = py[i].get(metric), "pynvml cannot read it"
        return [("ctypes", c_val, c_why or "ctypes: no value"), ("nvidia-smi", smi_val, smi_why), ("pynvml", py_val, py_why)]

    for i, dev in enumerate(devices):
        p = "GPU %d " % i
        for metric in FIELDS:
            best = None
            for k in range(len(rounds)):
                s = rounds[k][0]
                c = s.get("series", {}).get("gpu.%d.%s" % (i, metric))
                refs = ref_cols(k, i, dev, metric)
                ctx = {
                    "dt": rounds[k][1][i][1] - s.get("t", 0) / 1000.0 if i < len(rounds[k][1]) else 0,
                    "limit_w": s.get("series", {}).get("gpu.%d.power_limit_watts" % i) or 1000.0,
                    "total": s.get("series", {}).get("gpu.%d.memory_total_bytes" % i),
                    "nvlink_active": (rounds[k][1][i][0] if i < len(rounds[k][1]) else {}).get("nvlink_links_active_count"),
                }
                status, why = compare_value(metric, c, refs, ctx)
                best = (c, refs, status, why)
                if status != "FAIL":
                    break
                if metric not in MOVING:
                    break  # static fields get no second chance
            c, refs, status, why = best
            unit = FIELDS[metric][0]
            table.add(p + metric, fmt(c, unit), fmt(refs[0][1], unit), fmt(refs[1][1], unit), fmt(refs[2][1], unit), status, why)
        # Facts in details: name, uuid, bus id against nvidia-smi (ctypes read them in the driver checks).
        sm = rounds[0][2]
        g = None if isinstance(sm, str) else sm["gpus"].get(norm_bus(dev.get("pciBusId")))
        for key, smi_key in (("name", "_name"), ("uuid", "_uuid")):
            their = None if g is None else g.get(smi_key)
            if their is None:
                table.add(p + key, dev.get(key) or "-", "", "-", "", "n/a", "nvidia-smi: %s" % (sm if isinstance(sm, str) else "no value"))
            else:
                table.add(p + key, dev.get(key) or "-", "", their, "", "ok" if their == dev.get(key) else "FAIL", "equal")
        table.add(p + "pciBusId", dev.get("pciBusId") or "-", "", "-" if g is None else "found", "", "ok" if g is not None or isinstance(sm, str) else "FAIL", "nvidia-smi's gpu id attribute, normalised")

    # The training process: its VRAM and SM share as the collector lists it.
    if train_pid is not None:
        s, ct, sm, py, _ = rounds[-1]
        procs = ((s.get("details") or {}).get("gpu") or {}).get("processes") or []
        mine = next((x for x in procs if x.get("pid") == train_pid), None)
        cval = None if mine is None else mine.get("usedMemoryBytes")
        ctv = _proc_vram(nv, handles[0], train_pid) if handles else None
        smi_v = None if isinstance(sm, str) else (sm["gpus"].get(norm_bus(devices[0].get("pciBusId"))) or {}).get("_procs", {}).get(train_pid) if devices else None
        py_v = (py[0].get("_procs") or {}).get(train_pid) if py else None
        have = [(lab, v) for lab, v in (("ctypes", ctv), ("nvidia-smi", smi_v), ("pynvml", py_v)) if v is not None]
        bad = [lab for lab, v in have if cval is None or abs(cval - v) > 64 * MIB]
        status = "FAIL" if mine is None or bad or not have else "ok"
        why = "not listed by the collector" if mine is None else ("off by more than 64 MiB: %s" % ", ".join(bad) if bad else "±64 MiB against %s" % ", ".join(lab for lab, _ in have))
        table.add("GPU 0 process %d usedMemoryBytes" % train_pid, fmt(cval, "B"), fmt(ctv, "B"), fmt(smi_v, "B"), fmt(py_v, "B"), status, why)
        sm_ratio = None if mine is None else mine.get("smUtilRatio")
        table.add(
            "GPU 0 process %d smUtilRatio" % train_pid,
            fmt(sm_ratio, "ratio"),
            "",
            "",
            "",
            "ok" if sm_ratio is not None and 0 < sm_ratio <= 1 else "FAIL",
            "range 0 < r ≤ 1 while it trains (per-process samples)",
        )

    _runs(rep, col, train_pid, losses_file, result, train)
    _tick_cost(rep, col, result)
    if train is not None:
        _run_end(rep, col, train, train_pid, result, args.seconds)


def _proc_vram(nv, h, pid):
    from check import ProcessInfo  # noqa: E402 (same directory)

    arr = (ProcessInfo * 256)()
    n = ctypes.c_uint(256)
    if nv.call("nvmlDeviceGetComputeRunningProcesses_v3", h, ctypes.byref(n), arr) != SUCCESS:
        return None
    for k in range(n.value):
        if arr[k].pid == pid:
            return arr[k].usedGpuMemory
    return None


def _runs(rep, col, train_pid, losses_file, result, train):
    """The training is a run (found through NVML's process list), with its SummaryWriter scalars."""
    if train_pid is None:
        rep.fail("run discovered", "-", "no training process")
        return
    deadline = time.time() + 40
    run = None
    while time.time() < deadline:
        runs = ((col.latest().get("details") or {}).get("runs") or {}).get("runs") or []
        run = next((r for r in runs if train_pid in (r.get("pids") or [])), None)
        if run and any(x.get("tag") == "loss" for x in run.get("scalars") or []):
            break
        time.sleep(0.5)
    result["run"] = run
    if run is None:
        rep.fail("run discovered through the GPU's process list", "-", "no run with pid %d within 40 s" % train_pid)
        return
    rep.expect(
        "run discovered through the GPU's process list",
        "%s (%s, %s)" % (run.get("name"), run.get("origin"), run.get("state")),
        run.get("origin") == "gpu" and run.get("name") == "rw_real_gpu_train.py" and run.get("state") == "running",
        "expected origin gpu, name rw_real_gpu_train.py, running",
    )
    gpus = run.get("gpus") or []
    rep.expect("run's GPUs", json.dumps(gpus), any(g.get("index") == 0 and (g.get("memoryBytes") or 0) > 0 for g in gpus), "GPU 0 with its VRAM expected")
    scal = {x.get("tag"): x for x in run.get("scalars") or []}
    loss = scal.get("loss")
    logged = {}
    if losses_file and os.path.exists(losses_file):
        with open(losses_file) as f:
            for line in f:
                try:
                    st, v = line.split()
                    logged[int(st)] = float(v)
                except ValueError:
                    pass
    if loss is None:
        rep.fail("run scalar loss (SummaryWriter)", "-", "tags seen: %s" % sorted(scal))
    else:
        want = logged.get(loss.get("step"))
        ok = loss.get("value") is not None and want is not None and abs(loss["value"] - want) <= 1e-6 * max(1.0, abs(want))
        rep.expect(
            "run scalar loss = what the training logged",
            "step %s: %s" % (loss.get("step"), loss.get("text")),
            ok,
            "the training logged %s at that step (%d steps logged)" % (want, len(logged)),
            "float32 as the event file stores it",
        )
    missing = [t for t in ("lr", "throughput/samples_per_s") if t not in scal]
    rep.expect("run scalars lr, throughput/samples_per_s", ", ".join(sorted(scal)), not missing, "missing: %s" % missing)
    files = run.get("files") or []
    rep.expect("run reads the event file", ", ".join("%s" % f.get("format") for f in files), any("tfevents" in (f.get("format") or "") or "tensorboard" in (f.get("format") or "") for f in files), "no TensorBoard file among %s" % files)
    result["run_files"] = files


def _tick_cost(rep, col, result):
    """The collector's own tick, from its series: the whole tick and the GPU source's sample (NVML through koffi)."""
    seen = {}
    end = time.time() + 6
    while time.time() < end and len(seen) < 8:
        s = col.latest()
        ser = s.get("series", {})
        if s.get("t") and "collector.gpu.sample_duration_seconds" in ser:
            seen[s["t"]] = (ser.get("collector.tick_duration_seconds"), ser.get("collector.gpu.sample_duration_seconds"))
        time.sleep(0.25)
    metrics = col.get("/metrics", raw=True)
    gpu_line = re.search(r'^rigwatch_collector_sample_duration_seconds\{source="gpu"\} (\S+)$', metrics, re.M)
    tick_line = re.search(r"^rigwatch_collector_tick_duration_seconds(?:\{\})? (\S+)$", metrics, re.M)
    rep.expect(
        "/metrics: tick and GPU sample duration",
        "tick %s s, gpu %s s" % (tick_line.group(1) if tick_line else "-", gpu_line.group(1) if gpu_line else "-"),
        gpu_line is not None and tick_line is not None,
        "rigwatch_collector_tick_duration_seconds / rigwatch_collector_sample_duration_seconds{source=\"gpu\"} missing",
    )
    ticks = [v for v in seen.values() if v[0] is not None and v[1] is not None]
    if not ticks:
        rep.fail("collector tick cost", "-", "no tick durations in the snapshots")
        return
    tick_ms = [t * 1000 for t, _ in ticks]
    gpu_ms = [g * 1000 for _, g in ticks]
    result["tick"] = {"tick_ms": tick_ms, "gpu_sample_ms": gpu_ms}
    rep.ok(
        "collector NVML tick cost (GPU source sample)",
        "median %.2f ms, max %.2f ms" % (statistics.median(gpu_ms), max(gpu_ms)),
        "%d ticks; koffi calls in the NVML worker, round trip included" % len(gpu_ms),
    )
    rep.ok("collector whole tick", "median %.2f ms, max %.2f ms" % (statistics.median(tick_ms), max(tick_ms)), "host + GPU + runs sources")


def _run_end(rep, col, train, train_pid, result, seconds):
    """The training exits: the run must be reported ended within 3 ticks of it."""
    open(train.stop_file, "w").close()  # done with it: the training stops at its next logged step
    try:
        o, e = train.communicate(timeout=seconds + 120)
    except subprocess.TimeoutExpired:
        train.kill()
        o, e = train.communicate()
    result["train_stdout"], result["train_stderr"], result["train_rc"] = o, e, train.returncode
    # Counted in ticks (snapshots taken after the exit), not seconds: a loaded machine delays ticks.
    t_exit_ms = time.time() * 1000
    seen, state, last_t = 0, None, t_exit_ms
    deadline = time.time() + 60
    while seen < 3 and time.time() < deadline:
        s = col.wait_tick_after(last_t, timeout=max(1.0, deadline - time.time()))
        if s is None:
            break
        last_t = s.get("t", last_t)
        seen += 1
        runs = ((s.get("details") or {}).get("runs") or {}).get("runs") or []
        run = next((r for r in runs if train_pid in (r.get("pids") or [])), None)
        state = None if run is None else run.get("state")
        if state in ("finished", "gone"):
            break
    rep.expect(
        "run reported ended after the training exits",
        "%s at tick %d after the exit" % (state, seen),
        state in ("finished", "gone"),
        "still %s %d ticks after the exit" % (state, seen),
        "within 3 ticks",
    )
