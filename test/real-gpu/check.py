#!/usr/bin/env python3
"""Rigwatch on a real NVIDIA GPU: does the driver answer what the collector reads, and does the collector report it?

Runs where Node may be absent and nothing can be downloaded or built (a lent GPU machine with PyTorch,
TensorBoard and, optionally, pynvml); what it needs from the repository travels in test/real-gpu/.carry/
(test/real-gpu/prepare.sh fills it: a Node binary, xz-compressed, the collector bundle and koffi).
While a PyTorch training loop runs on GPU 0 and logs through TensorBoard's SummaryWriter, it
  1. calls libnvidia-ml through ctypes with the collector's own struct sizes, versions and call order
     (read from the repository: test/fakes/nvml/fake-nvml.c and collector/sources/gpu/nvml-worker.ts);
  2. runs the collector (collector_phase.py) and compares every GPU field it reports with NVML through
     ctypes, `nvidia-smi -q -x` and pynvml within stated tolerances, checks that the training appears as
     a run with its scalars, and reads the collector's NVML tick cost.
Every check prints one row (check, value, ok / FAIL / n/a and why); the fields print as a table; any
FAIL makes the exit status 1 (2: NVML could not be loaded).

  python3 test/real-gpu/check.py [--out DIR]            # the real run (needs a GPU), ~2-3 min
  python3 test/real-gpu/check.py --abi-only             # struct sizes only (no GPU needed)
  python3 test/real-gpu/check.py --fake-nvml LIB ...    # the collector phase against the fake NVML (npm test)

Artifacts for fixtures (nvidia-smi outputs of this GPU, the SummaryWriter event file, every reading as
JSON, the table) are written to --out (default: $OUT when set, else ./real-gpu-out).
"""

import argparse
import ctypes
import json
import math
import os
import re
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))

# nvmlReturn_t (nvml.h)
SUCCESS = 0
ERROR_NOT_SUPPORTED = 3
ERROR_NO_PERMISSION = 4
ERROR_INSUFFICIENT_SIZE = 7
ERROR_TIMEOUT = 10
ERROR_ARGUMENT_VERSION_MISMATCH = 25
NVML_GPM_METRIC_MAX = 333
NVML_NVLINK_MAX_LINKS = 18
# nvmlClocksEventReasons bits the collector decodes (collector/sources/gpu/reading.ts).
KNOWN_CLOCK_EVENT_BITS = 0x1FF
# nvmlEventType: single/double bit ECC, Xid.
EVENT_CRITICAL = 0x1 | 0x2 | 0x8


# ---------- struct layouts from NVIDIA's nvml.h (API 12/13), as ctypes ----------


class Memory(ctypes.Structure):
    _fields_ = [("total", ctypes.c_ulonglong), ("free", ctypes.c_ulonglong), ("used", ctypes.c_ulonglong)]


class Memory_v2(ctypes.Structure):
    _fields_ = [
        ("version", ctypes.c_uint),
        ("total", ctypes.c_ulonglong),
        ("reserved", ctypes.c_ulonglong),
        ("free", ctypes.c_ulonglong),
        ("used", ctypes.c_ulonglong),
    ]


class PciInfo(ctypes.Structure):
    _fields_ = [
        ("busIdLegacy", ctypes.c_char * 16),
        ("domain", ctypes.c_uint),
        ("bus", ctypes.c_uint),
        ("device", ctypes.c_uint),
        ("pciDeviceId", ctypes.c_uint),
        ("pciSubSystemId", ctypes.c_uint),
        ("busId", ctypes.c_char * 32),
    ]


class ProcessInfo_v1(ctypes.Structure):
    _fields_ = [("pid", ctypes.c_uint), ("usedGpuMemory", ctypes.c_ulonglong)]


class ProcessInfo(ctypes.Structure):  # nvmlProcessInfo_v2_t == the _v3 entry points' nvmlProcessInfo_t
    _fields_ = [
        ("pid", ctypes.c_uint),
        ("usedGpuMemory", ctypes.c_ulonglong),
        ("gpuInstanceId", ctypes.c_uint),
        ("computeInstanceId", ctypes.c_uint),
    ]


class ProcessUtilizationSample(ctypes.Structure):
    _fields_ = [
        ("pid", ctypes.c_uint),
        ("timeStamp", ctypes.c_ulonglong),
        ("smUtil", ctypes.c_uint),
        ("memUtil", ctypes.c_uint),
        ("encUtil", ctypes.c_uint),
        ("decUtil", ctypes.c_uint),
    ]


class Utilization(ctypes.Structure):
    _fields_ = [("gpu", ctypes.c_uint), ("memory", ctypes.c_uint)]


class ViolationTime(ctypes.Structure):
    _fields_ = [("referenceTime", ctypes.c_ulonglong), ("violationTime", ctypes.c_ulonglong)]


class EventData(ctypes.Structure):
    _fields_ = [
        ("device", ctypes.c_void_p),
        ("eventType", ctypes.c_ulonglong),
        ("eventData", ctypes.c_ulonglong),
        ("gpuInstanceId", ctypes.c_uint),
        ("computeInstanceId", ctypes.c_uint),
    ]


class GpmMetricInfo(ctypes.Structure):
    _fields_ = [("shortName", ctypes.c_char_p), ("longName", ctypes.c_char_p), ("unit", ctypes.c_char_p)]


class GpmMetric(ctypes.Structure):
    _fields_ = [
        ("metricId", ctypes.c_uint),
        ("nvmlReturn", ctypes.c_uint),
        ("value", ctypes.c_double),
        ("metricInfo", GpmMetricInfo),
    ]


class GpmMetricsGet(ctypes.Structure):
    _fields_ = [
        ("version", ctypes.c_uint),
        ("numMetrics", ctypes.c_uint),
        ("sample1", ctypes.c_void_p),
        ("sample2", ctypes.c_void_p),
        ("metrics", GpmMetric * NVML_GPM_METRIC_MAX),
    ]


class GpmSupport(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint), ("isSupportedDevice", ctypes.c_uint)]


# Our ctypes struct ↔ the fake's name ↔ the collector's byte constant ↔ pynvml's class names.
ABI = [
    ("nvmlMemory_v2_t", Memory_v2, "nvmlMemory_v2_t", "NVML_MEMORY_V2_VERSION", ["c_nvmlMemory_v2_t"]),
    ("nvmlPciInfo_t", PciInfo, "nvmlPciInfo_t", "PCI_INFO_BYTES", ["nvmlPciInfo_t", "c_nvmlPciInfo_t"]),
    ("nvmlProcessInfo_v2/v3_t", ProcessInfo, "nvmlProcessInfo_t", "PROCESS_INFO_V3_BYTES", ["c_nvmlProcessInfo_v2_t", "c_nvmlProcessInfo_t"]),
    ("nvmlProcessInfo_v1_t", ProcessInfo_v1, "nvmlProcessInfo_v1_t", "PROCESS_INFO_V1_BYTES", ["c_nvmlProcessInfo_v1_t"]),
    (
        "nvmlProcessUtilizationSample_t",
        ProcessUtilizationSample,
        "nvmlProcessUtilizationSample_t",
        "PROCESS_UTIL_SAMPLE_BYTES",
        ["c_nvmlProcessUtilizationSample_t"],
    ),
    ("nvmlViolationTime_t", ViolationTime, "nvmlViolationTime_t", None, ["c_nvmlViolationTime_t"]),
    ("nvmlEventData_t", EventData, "nvmlEventData_t", "EVENT_DATA_BYTES", ["c_nvmlEventData_t"]),
    ("nvmlGpmMetric_t", GpmMetric, "nvmlGpmMetric_t", "GPM_METRIC_BYTES", ["c_nvmlGpmMetric_t"]),
    ("nvmlGpmMetricsGet_t", GpmMetricsGet, "nvmlGpmMetricsGet_t", "GPM_METRICS_GET_BYTES", ["c_nvmlGpmMetricsGet_t"]),
]


class Report:
    """The table: one row per check, FAIL counted for the exit status."""

    def __init__(self):
        self.rows = []
        self.data = {}

    def add(self, check, value, status, why=""):
        self.rows.append((check, str(value), status, why))
        print("%-46s %-48s %-5s %s" % (check[:46], str(value)[:48], status, why), flush=True)

    def ok(self, check, value, why=""):
        self.add(check, value, "ok", why)

    def fail(self, check, value, why):
        self.add(check, value, "FAIL", why)

    def na(self, check, why):
        self.add(check, "-", "n/a", why)

    def expect(self, check, value, cond, why_fail, why_ok=""):
        if cond:
            self.ok(check, value, why_ok)
        else:
            self.fail(check, value, why_fail)

    @property
    def failed(self):
        return sum(1 for r in self.rows if r[2] == "FAIL")


# ---------- the repository's own numbers ----------


def repo_sizes():
    """sizeof() the fake asserts, and the byte constants the collector's workers use."""
    fake = {}
    with open(os.path.join(REPO, "test", "fakes", "nvml", "fake-nvml.c")) as f:
        for m in re.finditer(r"_Static_assert\(sizeof\((\w+)\)\s*==\s*([^,]+),", f.read()):
            fake[m.group(1)] = int(eval(m.group(2).replace("NVML_GPM_METRIC_MAX", str(NVML_GPM_METRIC_MAX)), {"__builtins__": {}}))
    worker = {}
    for rel in ("nvml-worker.ts", "nvml-events-worker.ts"):
        with open(os.path.join(REPO, "collector", "sources", "gpu", rel)) as f:
            # Numeric constants, possibly built from earlier ones (GPM_METRICS_GET_BYTES = 24 + GPM_METRIC_BYTES * 333).
            for m in re.finditer(r"^const (\w+) = ([\w +*|()<]+);", f.read(), re.M):
                try:
                    worker[m.group(1)] = int(eval(m.group(2), {"__builtins__": {}}, dict(worker)))
                except (NameError, SyntaxError, TypeError):
                    pass
    return fake, worker


def check_abi(rep, pynvml):
    fake, worker = repo_sizes()
    for label, cls, fake_name, const, py_names in ABI:
        ours = ctypes.sizeof(cls)
        parts = ["ctypes %d" % ours]
        bad = []
        f = fake.get(fake_name)
        if f is None:
            bad.append("fake-nvml.c asserts no size")
        else:
            parts.append("fake %d" % f)
            if f != ours:
                bad.append("fake differs")
        if const is not None:
            w = worker.get(const)
            if w is None:
                bad.append("%s not found in the collector" % const)
            else:
                w = w & 0xFFFFFF if const == "NVML_MEMORY_V2_VERSION" else w
                parts.append("collector %d" % w)
                if w != ours:
                    bad.append("collector differs")
        if pynvml is not None:
            py = next((getattr(pynvml, n) for n in py_names if hasattr(pynvml, n)), None)
            if py is not None:
                parts.append("pynvml %d" % ctypes.sizeof(py))
                if ctypes.sizeof(py) != ours:
                    bad.append("pynvml differs")
        value = ", ".join(parts)
        if bad:
            rep.fail("ABI sizeof %s" % label, value, "; ".join(bad))
        else:
            rep.ok("ABI sizeof %s" % label, value)
    off = PciInfo.busId.offset
    rep.expect("ABI nvmlPciInfo_t.busId offset", off, off == worker.get("PCI_BUS_ID_OFFSET"), "collector reads busId at %s" % worker.get("PCI_BUS_ID_OFFSET"))
    v = worker.get("NVML_MEMORY_V2_VERSION")
    want = ctypes.sizeof(Memory_v2) | (2 << 24)
    rep.expect("ABI nvmlMemory_v2 version", hex(v or 0), v == want, "NVML_STRUCT_VERSION(Memory, 2) is %s" % hex(want))


# ---------- NVML through ctypes ----------


class Nvml:
    def __init__(self, lib):
        self.lib = lib

    def fn(self, name):
        try:
            return getattr(self.lib, name)
        except AttributeError:
            return None

    def call(self, name, *args):
        """The return code, or None when the library lacks the entry point."""
        f = self.fn(name)
        if f is None:
            return None
        f.restype = ctypes.c_int
        return f(*args)

    def err(self, rc):
        if rc is None:
            return "entry point missing"
        f = self.fn("nvmlErrorString")
        if f is None:
            return "rc %d" % rc
        f.restype = ctypes.c_char_p
        return "%s (rc %d)" % (f(rc).decode(errors="replace"), rc)


def load_nvml():
    for name in ("libnvidia-ml.so.1", "libnvidia-ml.so"):
        try:
            return ctypes.CDLL(name)
        except OSError:
            continue
    return None


def u32():
    return ctypes.c_uint(0)


def u64():
    return ctypes.c_ulonglong(0)


def norm_bus(s):
    """'00000000:1B:00.0' and '0000:1b:00.0' → '0000:1b:00.0'."""
    s = s.strip().lower()
    m = re.match(r"^([0-9a-f]+):([0-9a-f]+):([0-9a-f]+)\.([0-9a-f])$", s)
    if not m:
        return s
    return "%04x:%02x:%02x.%s" % (int(m.group(1), 16) & 0xFFFF, int(m.group(2), 16), int(m.group(3), 16), m.group(4))


# ---------- the workload ----------

# Run from a file named rw_real_gpu_train.py (the collector's run name) under a shell, so that its
# parent is not this Python script (the runs source would take a Python parent for the run's root).
TRAIN = r"""
import argparse, os, socket, struct, sys, time
import torch
ap = argparse.ArgumentParser()
ap.add_argument('--logdir', required=True)
ap.add_argument('--seconds', type=float, required=True)
ap.add_argument('--device', default='cuda:0')
ap.add_argument('--hidden', type=int, default=4096)
ap.add_argument('--batch', type=int, default=2048)
ap.add_argument('--losses', required=True)
ap.add_argument('--stop-file', required=True)
a = ap.parse_args()
try:
    from torch.utils.tensorboard import SummaryWriter
    kind = 'SummaryWriter'
except ImportError:  # tensorboard not installed (a CPU-only test machine): the same records, written here
    kind = 'own TFRecord writer'

    def _crc(data):
        c = 0xFFFFFFFF
        for b in data:
            c ^= b
            for _ in range(8):
                c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
        c ^= 0xFFFFFFFF
        return ((((c >> 15) | (c << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF

    def _varint(n):
        out = b''
        while True:
            b = n & 0x7F
            n >>= 7
            if n:
                out += bytes([b | 0x80])
            else:
                return out + bytes([b])

    def _ld(field, payload):
        return _varint(field << 3 | 2) + _varint(len(payload)) + payload

    class SummaryWriter:
        def __init__(self, logdir):
            os.makedirs(logdir, exist_ok=True)
            name = 'events.out.tfevents.%d.%s.%d.0' % (time.time(), socket.gethostname(), os.getpid())
            self.f = open(os.path.join(logdir, name), 'wb')
            self._event(_ld(3, b'brain.Event:2'), 0)

        def _event(self, body, step):
            ev = b'\x09' + struct.pack('<d', time.time()) + b'\x10' + _varint(step) + body
            head = struct.pack('<Q', len(ev))
            self.f.write(head + struct.pack('<I', _crc(head)) + ev + struct.pack('<I', _crc(ev)))

        def add_scalar(self, tag, value, step):
            v = _ld(1, tag.encode()) + b'\x15' + struct.pack('<f', float(value))
            self._event(_ld(5, _ld(1, v)), step)

        def flush(self):
            self.f.flush()

        def close(self):
            self.f.close()

dev = torch.device(a.device)
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(a.hidden, a.hidden), torch.nn.ReLU(), torch.nn.Linear(a.hidden, 10)).to(dev)
opt = torch.optim.SGD(model.parameters(), lr=0.01)
x = torch.randn(a.batch, a.hidden, device=dev)
y = torch.randint(0, 10, (a.batch,), device=dev)
w = SummaryWriter(a.logdir)
lf = open(a.losses, 'w')
t0 = time.time(); step = 0
stop = False
while time.time() - t0 < a.seconds and not stop:
    opt.zero_grad()
    loss = torch.nn.functional.cross_entropy(model(x), y)
    loss.backward(); opt.step()
    if step % 10 == 0:
        if dev.type == 'cuda':
            torch.cuda.synchronize()
        v = loss.item()
        w.add_scalar('loss', v, step)
        w.add_scalar('lr', 0.01, step)
        w.add_scalar('throughput/samples_per_s', a.batch * 10 / max(1e-6, time.time() - t0) * (step > 0), step)
        w.flush()
        # What the event file holds (float32), for comparing with what the collector reads back.
        lf.write('%d %r\n' % (step, struct.unpack('<f', struct.pack('<f', v))[0])); lf.flush()
        stop = os.path.exists(a.stop_file)  # the checks are done with it (--seconds is the longest it runs)
    if step == 0:
        print('READY', os.getpid(), kind, flush=True)
    step += 1
w.close()
print('DONE', step, flush=True)
"""


def start_training(work, logdir, seconds, device, hidden, batch):
    """The training loop under `sh` (its own session); returns (Popen of the shell, training pid, writer kind, why)."""
    d = os.path.join(work, "train")
    os.makedirs(d, exist_ok=True)
    script = os.path.join(d, "rw_real_gpu_train.py")
    with open(script, "w") as f:
        f.write(TRAIN)
    losses = os.path.join(d, "losses.txt")
    stop = os.path.join(d, "stop")
    argv = [sys.executable, script, "--logdir", logdir, "--seconds", str(seconds), "--device", device, "--hidden", str(hidden), "--batch", str(batch), "--losses", losses, "--stop-file", stop]
    # `; exit $?` keeps sh from exec'ing the command: the training's parent is sh, not this script.
    p = subprocess.Popen(["sh", "-c", '"$@"; exit $?', "rw-train"] + argv, cwd=d, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.time() + 180
    while time.time() < deadline:
        line = p.stdout.readline()
        if not line:
            break
        if line.startswith("READY"):
            parts = line.split(None, 2)
            p.stop_file = stop
            return p, int(parts[1]), parts[2].strip(), losses, None
    p.kill()
    _, err = p.communicate()
    return None, None, None, losses, (err or "no READY from the training loop").strip().splitlines()[-1:]


# ---------- TensorBoard event files ----------


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def masked(crc):
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def tfrecords(path):
    """Record count and CRC failures of a TFRecord file (length u64, masked CRC32C of it, data, masked CRC32C)."""
    n = bad = 0
    with open(path, "rb") as f:
        buf = f.read()
    i = 0
    while i + 12 <= len(buf):
        (length,) = struct.unpack_from("<Q", buf, i)
        (lcrc,) = struct.unpack_from("<I", buf, i + 8)
        data = buf[i + 12 : i + 12 + length]
        if len(data) < length or i + 16 + length > len(buf):
            break
        (dcrc,) = struct.unpack_from("<I", buf, i + 12 + length)
        if masked(crc32c(buf[i : i + 8])) != lcrc or masked(crc32c(data)) != dcrc:
            bad += 1
        n += 1
        i += 16 + length
    return n, bad, len(buf) - i


# ---------- the checks ----------


def per_device(rep, nv, i, h, train_pid, readings):
    r = readings.setdefault(i, {})
    p = "GPU %d " % i
    name = ctypes.create_string_buffer(96)
    rc = nv.call("nvmlDeviceGetName", h, name, 96)
    r["name"] = name.value.decode(errors="replace") if rc == SUCCESS else None
    rep.expect(p + "name", r["name"], rc == SUCCESS and r["name"], nv.err(rc))

    pci = PciInfo()
    rc = nv.call("nvmlDeviceGetPciInfo_v3", h, ctypes.byref(pci))
    r["busId"] = pci.busId.decode(errors="replace") if rc == SUCCESS else None
    rep.expect(p + "PCI bus id (nvmlPciInfo_t v3)", r["busId"], rc == SUCCESS and re.match(r"^[0-9A-Fa-f]{8}:", r["busId"] or ""), nv.err(rc))

    m1 = Memory()
    rc1 = nv.call("nvmlDeviceGetMemoryInfo", h, ctypes.byref(m1))
    m2 = Memory_v2(version=ctypes.sizeof(Memory_v2) | (2 << 24))
    rc2 = nv.call("nvmlDeviceGetMemoryInfo_v2", h, ctypes.byref(m2))
    r["memory"] = {"v1": [m1.total, m1.free, m1.used], "v2": [m2.total, m2.reserved, m2.free, m2.used], "rc": [rc1, rc2]}
    if rc2 == ERROR_ARGUMENT_VERSION_MISMATCH:
        rep.fail(p + "memory info v2", "-", "version mismatch: our nvmlMemory_v2 layout is wrong for this driver")
    elif rc2 != SUCCESS:
        rep.fail(p + "memory info v2", "-", nv.err(rc2))
    else:
        # v2's used excludes the reserved part that v1 counts as used.
        parts = m2.reserved + m2.free + m2.used
        rep.expect(
            p + "memory info v2",
            "total %d MiB, reserved %d MiB" % (m2.total >> 20, m2.reserved >> 20),
            rc1 == SUCCESS and m2.total == m1.total and abs(parts - m2.total) <= (64 << 20) and m2.used < m2.total,
            "v1 total %d, reserved+free+used %d" % (m1.total, parts),
        )

    u = Utilization()
    rc = nv.call("nvmlDeviceGetUtilizationRates", h, ctypes.byref(u))
    r["util"] = [u.gpu, u.memory] if rc == SUCCESS else None
    if rc == SUCCESS and i == 0 and train_pid:
        rep.expect(p + "utilisation under training", "%d %% SM, %d %% mem" % (u.gpu, u.memory), u.gpu > 0, "0 % while PyTorch trains on it")
    else:
        rep.expect(p + "utilisation", r["util"], rc == SUCCESS, nv.err(rc))

    mw, lim = u32(), u32()
    rc = nv.call("nvmlDeviceGetPowerUsage", h, ctypes.byref(mw))
    rcl = nv.call("nvmlDeviceGetEnforcedPowerLimit", h, ctypes.byref(lim))
    r["power_mw"], r["power_limit_mw"] = mw.value, lim.value
    rep.expect(
        p + "power / enforced limit",
        "%.1f W / %.0f W" % (mw.value / 1000, lim.value / 1000),
        rc == SUCCESS and rcl == SUCCESS and 0 < mw.value <= lim.value * 1.3,
        "%s / %s" % (nv.err(rc), nv.err(rcl)),
    )

    e0 = u64()
    rc = nv.call("nvmlDeviceGetTotalEnergyConsumption", h, ctypes.byref(e0))
    if rc != SUCCESS:
        rep.fail(p + "energy counter", "-", nv.err(rc))
    else:
        time.sleep(1.0)
        e1 = u64()
        nv.call("nvmlDeviceGetTotalEnergyConsumption", h, ctypes.byref(e1))
        r["energy_mj"] = [e0.value, e1.value]
        d = (e1.value - e0.value) / 1000
        rep.expect(p + "energy counter monotonic (1 s)", "+%.1f J" % d, e1.value >= e0.value and d > 0, "did not grow over 1 s")

    t = u32()
    rc = nv.call("nvmlDeviceGetTemperature", h, 0, ctypes.byref(t))
    shut, slow = u32(), u32()
    rcs = nv.call("nvmlDeviceGetTemperatureThreshold", h, 0, ctypes.byref(shut))
    rcw = nv.call("nvmlDeviceGetTemperatureThreshold", h, 1, ctypes.byref(slow))
    r["temp"] = [t.value, slow.value, shut.value]
    rep.expect(p + "temperature", "%d C" % t.value, rc == SUCCESS and 10 <= t.value <= 110, nv.err(rc))
    rep.expect(
        p + "temperature thresholds (slowdown, shutdown)",
        "%d C, %d C" % (slow.value, shut.value),
        rcs == SUCCESS and rcw == SUCCESS and 40 <= slow.value < shut.value <= 130,
        "%s / %s" % (nv.err(rcw), nv.err(rcs)),
    )

    mask = u64()
    rc = nv.call("nvmlDeviceGetCurrentClocksEventReasons", h, ctypes.byref(mask))
    if rc is None:
        rc = nv.call("nvmlDeviceGetCurrentClocksThrottleReasons", h, ctypes.byref(mask))
    r["clock_event_mask"] = mask.value
    rep.expect(
        p + "clock-event reasons",
        hex(mask.value),
        rc == SUCCESS and mask.value & ~KNOWN_CLOCK_EVENT_BITS == 0,
        nv.err(rc) if rc != SUCCESS else "bits the collector does not decode: %s" % hex(mask.value & ~KNOWN_CLOCK_EVENT_BITS),
    )

    for policy, label in ((0, "power"), (1, "thermal")):
        vt = ViolationTime()
        rc = nv.call("nvmlDeviceGetViolationStatus", h, policy, ctypes.byref(vt))
        r["violation_" + label] = [vt.referenceTime, vt.violationTime]
        if rc == ERROR_NOT_SUPPORTED:
            rep.na(p + "violation status (%s)" % label, "NOT_SUPPORTED: the collector falls back to sampled reasons")
        else:
            rep.expect(p + "violation status (%s)" % label, "%d ns" % vt.violationTime, rc == SUCCESS, nv.err(rc))

    c, un, pend, failed = u32(), u32(), u32(), u32()
    rc = nv.call("nvmlDeviceGetRemappedRows", h, ctypes.byref(c), ctypes.byref(un), ctypes.byref(pend), ctypes.byref(failed))
    r["remapped_rows"] = [c.value, un.value, pend.value, failed.value]
    rep.expect(
        p + "remapped rows (corr, uncorr, pending, failure)",
        r["remapped_rows"],
        rc == SUCCESS,
        nv.err(rc) + " (Ampere and later support it)",
        "pending/failure set: this GPU needs attention" if pend.value or failed.value else "",
    )

    cur, pen = u32(), u32()
    rc = nv.call("nvmlDeviceGetEccMode", h, ctypes.byref(cur), ctypes.byref(pen))
    r["ecc_mode"] = [cur.value, pen.value] if rc == SUCCESS else None
    if rc == ERROR_NOT_SUPPORTED:
        rep.na(p + "ECC mode", "NOT_SUPPORTED")
    else:
        rep.expect(p + "ECC mode (current, pending)", r["ecc_mode"], rc == SUCCESS, nv.err(rc))
        if rc == SUCCESS and cur.value:
            cnt = u64()
            rc2 = nv.call("nvmlDeviceGetTotalEccErrors", h, 1, 0, ctypes.byref(cnt))
            rep.expect(p + "ECC uncorrected (volatile)", cnt.value, rc2 == SUCCESS, nv.err(rc2))

    mig, migp = u32(), u32()
    rc = nv.call("nvmlDeviceGetMigMode", h, ctypes.byref(mig), ctypes.byref(migp))
    r["mig"] = [mig.value, migp.value] if rc == SUCCESS else None
    if rc == ERROR_NOT_SUPPORTED:
        rep.na(p + "MIG mode", "NOT_SUPPORTED")
    else:
        rep.expect(p + "MIG mode (current, pending)", r["mig"], rc == SUCCESS, nv.err(rc))

    links = []
    first_rc = None
    for link in range(NVML_NVLINK_MAX_LINKS):
        active = u32()
        rc = nv.call("nvmlDeviceGetNvLinkState", h, link, ctypes.byref(active))
        if first_rc is None:
            first_rc = rc
        if rc == SUCCESS:
            links.append(active.value)
    r["nvlink_active"] = links
    if not links:
        rep.na(p + "NVLink state", "no links answer (%s): a PCIe card shows none" % nv.err(first_rc))
    else:
        rep.ok(p + "NVLink state", "%d of %d links active" % (sum(1 for a in links if a), len(links)))

    sup = GpmSupport(version=1)
    rc = nv.call("nvmlGpmQueryDeviceSupport", h, ctypes.byref(sup))
    r["gpm_supported"] = sup.isSupportedDevice if rc == SUCCESS else None
    if rc != SUCCESS or not sup.isSupportedDevice:
        # Hopper supports GPM: an H100 that does not is a finding, other GPUs are n/a.
        if "H100" in (r["name"] or "") or "H200" in (r["name"] or ""):
            rep.fail(p + "GPM support", sup.isSupportedDevice, nv.err(rc) if rc != SUCCESS else "Hopper GPU reports no GPM support")
        else:
            rep.na(p + "GPM support", "not supported: %s" % (nv.err(rc) if rc != SUCCESS else "isSupportedDevice 0 (pre-Hopper GPU)"))
    else:
        gpm(rep, nv, p, h, r, train_pid is not None and i == 0)

    return r


def gpm(rep, nv, p, h, r, busy):
    s1, s2 = ctypes.c_void_p(), ctypes.c_void_p()
    if nv.call("nvmlGpmSampleAlloc", ctypes.byref(s1)) != SUCCESS or nv.call("nvmlGpmSampleAlloc", ctypes.byref(s2)) != SUCCESS:
        rep.fail(p + "GPM sample alloc", "-", "nvmlGpmSampleAlloc failed")
        return
    try:
        rc1 = nv.call("nvmlGpmSampleGet", h, s1)
        time.sleep(1.0)
        rc2 = nv.call("nvmlGpmSampleGet", h, s2)
        ids = [2, 3, 5, 10, 60, 61]  # the collector's: SM activity, occupancy, tensor, DRAM bw, NVLink rx/tx
        mg = GpmMetricsGet(version=1, numMetrics=len(ids), sample1=s1.value, sample2=s2.value)
        for k, mid in enumerate(ids):
            mg.metrics[k].metricId = mid
        rc = nv.call("nvmlGpmMetricsGet", ctypes.byref(mg))
        vals = {mid: (mg.metrics[k].nvmlReturn, mg.metrics[k].value) for k, mid in enumerate(ids)}
        r["gpm"] = {str(k): v for k, v in vals.items()}
        if rc1 != SUCCESS or rc2 != SUCCESS or rc != SUCCESS:
            rep.fail(p + "GPM metrics", "-", "%s / %s / %s" % (nv.err(rc1), nv.err(rc2), nv.err(rc)))
            return
        rc_sm, sm = vals[2]
        ok = rc_sm == SUCCESS and 0 <= sm <= 100 and (sm > 0 or not busy)
        rep.expect(p + "GPM SM activity", "%.1f %%" % sm, ok, "rc %d, value %.2f%s" % (rc_sm, sm, " while training" if busy else ""))
        rest = ", ".join("%d:%s" % (mid, "%.1f" % v if rcm == SUCCESS else "rc%d" % rcm) for mid, (rcm, v) in vals.items() if mid != 2)
        rep.ok(p + "GPM other metrics (id:value)", rest)
    finally:
        nv.call("nvmlGpmSampleFree", s1)
        nv.call("nvmlGpmSampleFree", s2)


def processes(rep, nv, h, train_pid, pynvml_h, pynvml):
    p = "GPU 0 "
    found = None
    for entry, cls in (("nvmlDeviceGetComputeRunningProcesses_v3", ProcessInfo), ("nvmlDeviceGetComputeRunningProcesses_v2", ProcessInfo)):
        count = u32()
        rc = nv.call(entry, h, ctypes.byref(count), None)
        if rc is None:
            continue
        n = count.value + 8
        arr = (cls * n)()
        count = ctypes.c_uint(n)
        rc = nv.call(entry, h, ctypes.byref(count), arr)
        if rc != SUCCESS:
            rep.fail(p + "running compute processes (%s)" % entry[-3:], "-", nv.err(rc))
            continue
        rows = {arr[k].pid: arr[k].usedGpuMemory for k in range(count.value)}
        hit = rows.get(train_pid)
        found = found or hit
        rep.expect(
            p + "compute processes %s: torch pid" % entry[-3:],
            "pid %d: %s MiB (%d listed)" % (train_pid, "-" if hit is None else hit >> 20, len(rows)),
            hit is not None and 0 < hit < (1 << 50),
            "the training pid is not listed with its VRAM (pids seen: %s)" % sorted(rows)[:8],
        )
    if pynvml is not None and pynvml_h is not None:
        try:
            theirs = {q.pid: q.usedGpuMemory for q in pynvml.nvmlDeviceGetComputeRunningProcesses(pynvml_h)}
            rep.expect(
                p + "pynvml agrees on the torch pid's VRAM",
                "%s MiB" % ("-" if theirs.get(train_pid) is None else theirs[train_pid] >> 20),
                theirs.get(train_pid) is not None and found is not None and abs(theirs[train_pid] - found) <= (256 << 20),
                "ctypes %s, pynvml %s" % (found, theirs.get(train_pid)),
            )
        except Exception as e:  # pynvml raises its own NVMLError subclasses
            rep.fail(p + "pynvml compute processes", "-", repr(e))

    count = u32()
    last_seen = ctypes.c_ulonglong(0)
    rc = nv.call("nvmlDeviceGetProcessUtilization", h, None, ctypes.byref(count), last_seen)
    if rc == ERROR_NOT_SUPPORTED:
        rep.na(p + "process utilisation samples", "NOT_SUPPORTED")
        return
    n = max(count.value, 1) + 16
    arr = (ProcessUtilizationSample * n)()
    count = ctypes.c_uint(n)
    rc = nv.call("nvmlDeviceGetProcessUtilization", h, arr, ctypes.byref(count), last_seen)
    if rc != SUCCESS:
        rep.fail(p + "process utilisation samples", "-", nv.err(rc))
        return
    mine = [arr[k] for k in range(count.value) if arr[k].pid == train_pid]
    best = max((s.smUtil for s in mine), default=None)
    rep.expect(
        p + "process utilisation: torch pid",
        "%d samples, max SM %s %%" % (len(mine), best),
        len(mine) > 0 and best is not None and best <= 100,
        "no sample for the training pid among %d" % count.value,
    )


def events(rep, nv, handles):
    es = ctypes.c_void_p()
    rc = nv.call("nvmlEventSetCreate", ctypes.byref(es))
    if rc != SUCCESS:
        rep.fail("events: nvmlEventSetCreate", "-", nv.err(rc))
        return
    try:
        registered = 0
        for i, h in enumerate(handles):
            sup = u64()
            rc = nv.call("nvmlDeviceGetSupportedEventTypes", h, ctypes.byref(sup))
            want = sup.value & EVENT_CRITICAL if rc == SUCCESS else 0
            if rc != SUCCESS:
                rep.fail("GPU %d events: supported types" % i, "-", nv.err(rc))
                continue
            rc = nv.call("nvmlDeviceRegisterEvents", h, ctypes.c_ulonglong(want), es)
            if rc == SUCCESS:
                registered += 1
                rep.ok("GPU %d events: registered" % i, "types %s of %s" % (hex(want), hex(sup.value)), "Xid included" if want & 0x8 else "no Xid type")
            elif rc in (ERROR_NOT_SUPPORTED, ERROR_NO_PERMISSION):
                rep.na("GPU %d events: registered" % i, nv.err(rc) + ": the collector falls back to the kernel log")
            else:
                rep.fail("GPU %d events: registered" % i, hex(want), nv.err(rc))
        if not registered:
            return
        data = EventData()
        t0 = time.monotonic()
        rc = nv.call("nvmlEventSetWait_v2", es, ctypes.byref(data), 500)
        waited = time.monotonic() - t0
        if rc == SUCCESS:
            rep.ok("events: wait (500 ms timeout)", "event type %s data %d" % (hex(data.eventType), data.eventData), "a real event arrived")
        else:
            rep.expect("events: wait (500 ms timeout)", "%s after %.2f s" % (nv.err(rc), waited), rc == ERROR_TIMEOUT and waited < 5, "expected TIMEOUT within a few seconds")
    finally:
        rc = nv.call("nvmlEventSetFree", es)
        rep.expect("events: nvmlEventSetFree", nv.err(rc), rc == SUCCESS, "free failed")


def tick_cost(rep, nv, handles):
    """One collector-like query batch per device, timed (ctypes adds Python overhead: an upper bound for koffi)."""
    m2 = Memory_v2()
    u = Utilization()
    x, y = u32(), u64()
    arr = (ProcessInfo * 64)()
    ts = []
    for _ in range(50):
        t0 = time.perf_counter()
        for h in handles:
            m2.version = ctypes.sizeof(Memory_v2) | (2 << 24)
            nv.call("nvmlDeviceGetMemoryInfo_v2", h, ctypes.byref(m2))
            nv.call("nvmlDeviceGetUtilizationRates", h, ctypes.byref(u))
            nv.call("nvmlDeviceGetPowerUsage", h, ctypes.byref(x))
            nv.call("nvmlDeviceGetTemperature", h, 0, ctypes.byref(x))
            nv.call("nvmlDeviceGetClockInfo", h, 1, ctypes.byref(x))
            nv.call("nvmlDeviceGetClockInfo", h, 2, ctypes.byref(x))
            nv.call("nvmlDeviceGetPcieThroughput", h, 0, ctypes.byref(x))
            nv.call("nvmlDeviceGetPcieThroughput", h, 1, ctypes.byref(x))
            nv.call("nvmlDeviceGetTotalEnergyConsumption", h, ctypes.byref(y))
            nv.call("nvmlDeviceGetCurrentClocksEventReasons", h, ctypes.byref(y))
            c = ctypes.c_uint(64)
            nv.call("nvmlDeviceGetComputeRunningProcesses_v3", h, ctypes.byref(c), arr)
        ts.append(time.perf_counter() - t0)
    med = statistics.median(ts) * 1000
    rep.ok("NVML tick cost (11 calls x %d GPUs, ctypes)" % len(handles), "median %.2f ms, max %.2f ms" % (med, max(ts) * 1000), "50 ticks; PCIe throughput blocks ~20 ms per call on some drivers")
    return {"median_ms": med, "ticks_ms": [t * 1000 for t in ts]}


def smi(rep, out, readings):
    exe = shutil.which("nvidia-smi")
    if exe is None:
        rep.na("nvidia-smi cross-check", "nvidia-smi not on PATH")
        return
    for args, fname in (
        (["-q", "-x"], "nvidia-smi-q.xml"),
        (["-q"], "nvidia-smi-q.txt"),
        (["--help-query-gpu"], "nvidia-smi-help-query-gpu.txt"),
        (["--query-compute-apps=pid,process_name,used_gpu_memory,gpu_bus_id,gpu_uuid", "--format=csv"], "nvidia-smi-compute-apps.csv"),
    ):
        try:
            res = subprocess.run([exe] + args, capture_output=True, text=True, timeout=60)
            with open(os.path.join(out, fname), "w") as f:
                f.write(res.stdout)
        except (OSError, subprocess.SubprocessError) as e:
            rep.fail("nvidia-smi %s" % " ".join(args), "-", repr(e))
    try:
        root = ET.parse(os.path.join(out, "nvidia-smi-q.xml")).getroot()
    except (OSError, ET.ParseError) as e:
        rep.fail("nvidia-smi -q -x parse", "-", repr(e))
        return
    for i, g in enumerate(root.findall("gpu")):
        r = readings.get(i)
        if r is None:
            rep.fail("GPU %d vs nvidia-smi" % i, "-", "nvidia-smi lists a GPU NVML did not")
            continue
        name = (g.findtext("product_name") or "").strip()
        rep.expect("GPU %d name = nvidia-smi" % i, name, name == r.get("name"), "NVML says %r" % r.get("name"))
        bus = norm_bus(g.get("id") or "")
        rep.expect("GPU %d bus id = nvidia-smi" % i, bus, bus == norm_bus(r.get("busId") or ""), "NVML says %r" % r.get("busId"))
        total = (g.findtext("fb_memory_usage/total") or "").split()
        if total and total[0].isdigit() and r.get("memory"):
            mib = int(total[0])
            ours = r["memory"]["v2"][0] >> 20
            rep.expect("GPU %d memory total = nvidia-smi (±1 MiB)" % i, "%d MiB" % mib, abs(mib - ours) <= 1, "NVML total %d MiB" % ours)
        lim = g.findtext("gpu_power_readings/current_power_limit") or g.findtext("power_readings/enforced_power_limit") or ""
        m = re.match(r"([\d.]+)\s*W", lim.strip())
        if m and r.get("power_limit_mw"):
            rep.expect(
                "GPU %d power limit = nvidia-smi (±1 W)" % i,
                lim.strip(),
                abs(float(m.group(1)) - r["power_limit_mw"] / 1000) <= 1,
                "NVML %.1f W" % (r["power_limit_mw"] / 1000),
            )


def tensorboard_check(rep, logdir, out, steps_line, tensorboard_required=True):
    files = [os.path.join(dp, f) for dp, _, fs in os.walk(logdir) for f in fs if f.startswith("events.out.tfevents.")]
    if not files:
        rep.fail("SummaryWriter event file", "-", "none written under %s" % logdir)
        return
    f = max(files, key=os.path.getsize)
    n, bad, tail = tfrecords(f)
    rep.expect("event file TFRecord framing (masked CRC32C)", "%d records, %d bad, %d trailing bytes" % (n, bad, tail), n > 2 and bad == 0 and tail == 0, "corrupt or truncated")
    shutil.copy(f, os.path.join(out, "pytorch-summarywriter-" + os.path.basename(f).split(".")[3] + ".tfevents"))
    try:
        from tensorboard.backend.event_processing import event_accumulator  # noqa: E402 (optional at import time)

        acc = event_accumulator.EventAccumulator(f)
        acc.Reload()
        tags = acc.Tags().get("scalars", [])
        loss = acc.Scalars("loss") if "loss" in tags else []
        rep.expect(
            "TensorBoard reads back the scalars",
            "tags %s, %d loss points" % (",".join(tags), len(loss)),
            "loss" in tags and len(loss) >= 2 and all(math.isfinite(x.value) for x in loss) and loss[-1].value < loss[0].value,
            "loss missing, not finite or not falling (%s)" % steps_line,
        )
    except ImportError as e:
        if tensorboard_required:
            rep.fail("TensorBoard reads back the scalars", "-", "tensorboard not importable: %s" % e)
        else:
            rep.na("TensorBoard reads back the scalars", "tensorboard not installed here (fake-NVML mode)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.environ.get("OUT") or os.path.join(os.getcwd(), "real-gpu-out"))
    ap.add_argument("--seconds", type=float, default=150.0, help="longest the training loop runs (the checks stop it when done with it)")
    ap.add_argument("--abi-only", action="store_true", help="compare struct sizes only (no GPU needed)")
    ap.add_argument("--no-collector", action="store_true", help="skip the collector phase (driver checks only)")
    ap.add_argument("--node", help="Node binary (default: test/real-gpu/.carry/node.xz unpacked, else node on PATH)")
    ap.add_argument("--bundle", help="collector bundle (default: test/real-gpu/.carry/collector.js, else dist/collector.js)")
    ap.add_argument("--nvidia-smi", dest="smi", help="nvidia-smi to compare with (default: the one on PATH)")
    ap.add_argument("--train-device", help="torch device of the training loop (default cuda:0; cpu with --fake-nvml)")
    ap.add_argument("--interval", type=float, default=1.0, help="the collector's sample interval, seconds")
    ap.add_argument("--rounds", type=int, default=3, help="paired readings per field (a moving field passes when one agrees)")
    ap.add_argument(
        "--fake-nvml",
        metavar="LIB",
        help="test mode: the fake libnvidia-ml.so.1 (test/fakes/nvml) instead of the driver; training on the CPU; "
        "the driver-only checks are skipped and the collector phase runs against the fake",
    )
    ap.add_argument("--fake-state", metavar="FILE", help="with --fake-nvml: the fake's state file to start from (copied; the training pid is added)")
    args = ap.parse_args()
    rep = Report()
    fake = args.fake_nvml is not None
    pynvml = None
    if not fake:  # pynvml loads the real driver by itself: no use against the fake
        try:
            import pynvml  # nvidia-ml-py: NVIDIA's own ctypes binding, an independent second reading
        except ImportError:
            pynvml = None

    print("%-46s %-48s %-5s %s" % ("check", "value", "", "why"))
    check_abi(rep, pynvml)
    if args.abi_only:
        if pynvml is None:
            rep.na("pynvml struct sizes", "pynvml not installed here")
        return 1 if rep.failed else 0

    os.makedirs(args.out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="rw-real-gpu-")
    try:
        return run(rep, args, fake, pynvml, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def fake_state(base, work):
    """A copy of the fake's state file (key=value lines) that this run can add the training pid to."""
    state = {}
    if base:
        with open(base) as f:
            for line in f:
                if "=" in line:
                    k, v = line.rstrip("\n").split("=", 1)
                    state[k] = v
    path = os.path.join(work, "fake-nvml-state")

    def write(extra):
        state.update(extra)
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write("".join("%s=%s\n" % kv for kv in state.items()))
        os.replace(tmp, path)

    write({})
    return path, write


def run(rep, args, fake, pynvml, work):
    if fake:
        state_path, write_state = fake_state(args.fake_state, work)
        os.environ["FAKE_NVML_STATE"] = state_path  # the fake reads it with getenv, in this process and the collector
        try:
            lib = ctypes.CDLL(args.fake_nvml)
        except OSError as e:
            rep.fail("load the fake NVML", args.fake_nvml, str(e))
            return 2
        rep.ok("fake NVML (test mode)", os.path.basename(os.path.dirname(args.fake_nvml)), "not a GPU: the collector phase against test/fakes/nvml")
    else:
        lib = load_nvml()
        if lib is None:
            rep.fail("load libnvidia-ml.so.1", "-", "not found: no NVIDIA driver on this machine")
            return 2
    nv = Nvml(lib)
    rc = nv.call("nvmlInit_v2")
    if rc != SUCCESS:
        rep.fail("nvmlInit_v2", "-", nv.err(rc))
        return 2
    rep.ok("nvmlInit_v2", "SUCCESS")
    drv = ctypes.create_string_buffer(80)
    nv.call("nvmlSystemGetDriverVersion", drv, 80)
    cuda = ctypes.c_int(0)
    nv.call("nvmlSystemGetCudaDriverVersion_v2", ctypes.byref(cuda))
    rep.ok("driver / CUDA", "%s / %d.%d" % (drv.value.decode(), cuda.value // 1000, cuda.value % 1000 // 10))
    n = u32()
    rc = nv.call("nvmlDeviceGetCount_v2", ctypes.byref(n))
    rep.expect("device count", n.value, rc == SUCCESS and n.value > 0, nv.err(rc))
    handles = []
    for i in range(n.value):
        h = ctypes.c_void_p()
        rc = nv.call("nvmlDeviceGetHandleByIndex_v2", i, ctypes.byref(h))
        if rc != SUCCESS:
            rep.fail("GPU %d handle" % i, "-", nv.err(rc))
            continue
        handles.append(h)

    pynvml_h = None
    if pynvml is not None:
        try:
            pynvml.nvmlInit()
            pynvml_h = pynvml.nvmlDeviceGetHandleByIndex(0)
        except Exception as e:  # NVMLError
            rep.fail("pynvml init", "-", repr(e))
            pynvml = None
    elif not fake:
        rep.na("pynvml", "not installed: its column stays empty")

    logdir = os.path.join(work, "train", "tb")
    # On the GPU: a 4096-wide MLP that keeps an H100 busy. Fake mode: a tiny one on the CPU (only the pid matters).
    device, hidden, batch = ("cpu", 64, 256) if fake else ("cuda:0", 4096, 2048)
    if args.train_device:
        device = args.train_device
        if device == "cpu":
            hidden, batch = 64, 256
    train, train_pid, writer_kind, losses, why = start_training(work, logdir, args.seconds, device, hidden, batch)
    rep.expect("PyTorch training (%s) logging through %s" % (device, writer_kind or "-"), "pid %s" % train_pid, train is not None, "did not start: %s" % why)
    try:
        if fake and train_pid:
            # The fake lists the training as a compute process on GPU 0 (2 GiB) with 55 % SM.
            write_state({"gpu.0.compute": "%d:%d" % (train_pid, 2 << 30), "gpu.0.putil": "%d:55" % train_pid})
        smi_exe = args.smi or shutil.which("nvidia-smi")
        readings = {}
        cost = None
        if not fake:
            time.sleep(3.0)  # let per-process utilisation samples accumulate
            # While the training loop runs: its process first, then every device, nvidia-smi's view of it all.
            if train_pid and handles:
                processes(rep, nv, handles[0], train_pid, pynvml_h, pynvml)
            else:
                rep.fail("GPU 0 processes", "-", "no training process to look for")
            for i, h in enumerate(handles):
                per_device(rep, nv, i, h, train_pid, readings)
            smi(rep, args.out, readings)
            events(rep, nv, handles)
            cost = tick_cost(rep, nv, handles)

        collector = {}
        if not args.no_collector:
            import collector_phase  # test/real-gpu/collector_phase.py

            print("\n--- the collector (node dist/collector.js) on this driver ---", flush=True)
            collector = collector_phase.run_phase(
                rep,
                args,
                nv,
                handles,
                train_pid,
                pynvml,
                smi_exe,
                work,
                nvml_path=args.fake_nvml,
                collector_env={"FAKE_NVML_STATE": os.environ["FAKE_NVML_STATE"]} if fake else None,
                losses_file=losses,
                train=train,
                fake_state=write_state if fake else None,
            )
            if collector.get("tick") and cost:
                med = statistics.median(collector["tick"]["gpu_sample_ms"])
                rep.ok("collector GPU sample / ctypes batch (same run)", "%.2f" % (med / cost["median_ms"]), "koffi + worker round trip vs 11 ctypes calls per GPU")

        steps_line = ""
        if train is not None:
            if "train_rc" in collector:
                o, e, rc = collector["train_stdout"], collector["train_stderr"], collector["train_rc"]
            else:
                open(train.stop_file, "w").close()
                try:
                    o, e = train.communicate(timeout=args.seconds + 120)
                    rc = train.returncode
                except subprocess.TimeoutExpired:
                    train.kill()
                    o, e, rc = "", "still running after its time", None
            steps_line = (o.strip().splitlines() or [""])[-1]
            rep.expect("training loop finished", steps_line, rc == 0, (e.strip().splitlines() or ["rc %s" % rc])[-1])
            tensorboard_check(rep, logdir, args.out, steps_line, tensorboard_required=not fake)
    finally:
        if train is not None and train.poll() is None:
            os.killpg(train.pid, 9)
            train.wait()
    nv.call("nvmlShutdown")

    with open(os.path.join(args.out, "readings.json"), "w") as f:
        json.dump({"readings": readings, "tick_cost": cost, "collector": collector, "rows": rep.rows}, f, indent=1, default=str)
    with open(os.path.join(args.out, "table.txt"), "w") as f:
        for r in rep.rows:
            f.write("%-60s %-70s %-5s %s\n" % r)
    # A short summary last (a remote runner may keep only the end of the output): every FAIL, the numbers.
    fields = [r for r in rep.rows if r[0].startswith("field ")]
    print("\n=== summary ===")
    print("collector fields: %d ok, %d n/a, %d FAIL" % tuple(sum(1 for r in fields if r[2] == st) for st in ("ok", "n/a", "FAIL")))
    keys = ("NVML tick cost", "collector NVML tick cost", "collector whole tick", "collector GPU sample / ctypes", "run ", "driver / CUDA", "GPU 0 name", "Node binary runs")
    for r in rep.rows:
        if r[2] == "FAIL" or (not r[0].startswith("field ") and r[0].startswith(keys)):
            print("%-5s %-50s %-60s %s" % (r[2], r[0][:50], r[1][:60], r[3][:160]))
    print("\n%d checks, %d failed; artifacts in %s" % (len(rep.rows), rep.failed, args.out))
    return 1 if rep.failed else 0


if __name__ == "__main__":
    sys.exit(main())
