// The text formats (fixtures named by product and version) and the command-line facts.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ownerLabel } from '../../../../protocol/owner-label';
import { idStem, isTrainingCandidate, launcherOf, logDirsOf, runName } from '../../../../collector/sources/runs/command';
import { parseRunsConfig } from '../../../../collector/sources/runs/config';
import { formatOf } from '../../../../collector/sources/runs/metric-files';
import {
  isLossTag,
  isThroughputTag,
  parseCsvRow,
  parseJsonLine,
  parseMlflowLine,
  parseTrainerState,
  sanitizeTag,
  splitCsvLine,
} from '../../../../collector/sources/runs/parse';
import { describeExit, parseStat, readOwner } from '../../../../collector/sources/runs/proc';

const FIX = path.join(__dirname, '..', '..', '..', 'fixtures', 'runs');

describe('runs: parsers', () => {
  it('JSON lines from Python: NaN/Infinity tokens, nested objects, junk lines', () => {
    const lines = fs.readFileSync(path.join(FIX, 'python-json-nan.jsonl'), 'utf8').split('\n');
    const a = parseJsonLine(lines[0] as string);
    assert.deepEqual(
      a?.map((p) => [p.tag, p.value, p.step, p.t]),
      [
        ['loss', 0.5, 1, 1700000000000],
        ['tokens_per_sec', 1000, 1, 1700000000000],
      ],
    );
    assert.ok(Number.isNaN(parseJsonLine(lines[1] as string)?.[0]?.value));
    const c = parseJsonLine(lines[2] as string);
    assert.deepEqual(
      c?.map((p) => [p.tag, p.value]),
      [
        ['loss', Infinity],
        ['grad/norm', 2.5],
      ],
    );
    assert.equal(parseJsonLine(lines[3] as string), null);
  });

  it('Lightning 2.1 metrics.csv: empty cells skipped, nan kept', () => {
    const [head, ...rows] = fs.readFileSync(path.join(FIX, 'lightning-2.1-metrics.csv'), 'utf8').trim().split('\n');
    const header = splitCsvLine(head as string);
    const pts = rows.flatMap((r) => parseCsvRow(header, r));
    assert.deepEqual(
      pts.slice(0, 3).map((p) => [p.tag, p.value, p.step]),
      [
        ['epoch', 0, 49],
        ['train_loss_step', 0.6931, 49],
        ['lr-SGD', 0.1, 49],
      ],
    );
    assert.ok(pts.some((p) => p.tag === 'val_loss' && p.value === 0.4987 && p.step === 99));
    assert.ok(pts.some((p) => p.tag === 'train_loss_step' && Number.isNaN(p.value) && p.step === 149));
  });

  it('MLflow 2.9 file store metric lines', () => {
    const lines = fs.readFileSync(path.join(FIX, 'mlflow-2.9/mlruns/0/abc123/metrics/train_loss'), 'utf8').trim().split('\n');
    assert.deepEqual(parseMlflowLine('train_loss', lines[1] as string), { tag: 'train_loss', value: 0.7, step: 1, t: 1700000001123 });
    assert.ok(Number.isNaN(parseMlflowLine('train_loss', lines[2] as string)?.value));
    assert.equal(formatOf(path.join(FIX, 'mlflow-2.9/mlruns/0/abc123/metrics/train_loss')), 'mlflow');
  });

  it('HF transformers 4.36 trainer_state.json: log_history after a step', () => {
    const text = fs.readFileSync(path.join(FIX, 'hf-transformers-4.36-trainer_state.json'), 'utf8');
    const all = parseTrainerState(text, -Infinity);
    assert.equal(all?.lastStep, 20);
    assert.ok(all?.points.some((p) => p.tag === 'loss' && p.value === 1.9876 && p.step === 10));
    assert.ok(all?.points.some((p) => p.tag === 'train_samples_per_second' && p.value === 30.48));
    const later = parseTrainerState(text, 10);
    assert.ok(later?.points.every((p) => (p.step ?? 0) > 10));
  });

  it('tags: sanitised keys, loss and throughput detection', () => {
    assert.equal(sanitizeTag('train/Loss'), 'train_loss');
    assert.equal(sanitizeTag('1st'), 'm_1st');
    assert.ok(isLossTag('train/loss') && isLossTag('val_loss') && !isLossTag('lr'));
    assert.ok(isThroughputTag('tokens_per_sec') && isThroughputTag('train_samples_per_second') && isThroughputTag('tok/s') && !isThroughputTag('loss'));
  });

  it('commands: launchers, names, log dirs', () => {
    const torchrun = ['/usr/bin/python3', '/usr/local/bin/torchrun', '--nproc_per_node=2', 'train.py', '--logdir', 'runs/a'];
    assert.equal(launcherOf(torchrun), 'torchrun');
    assert.equal(runName(torchrun), 'train.py');
    assert.deepEqual(logDirsOf(torchrun, '/work'), ['/work/runs/a']);
    assert.deepEqual(logDirsOf(['python', 'x.py', '--output_dir=/o', '--default_root_dir', '/r'], null), ['/o', '/r']);
    assert.equal(launcherOf(['python3', '-m', 'torch.distributed.run', 'x.py']), 'torch.distributed.run');
    assert.equal(runName(['python', '-m', 'mypkg.train']), 'mypkg.train');
    assert.ok(isTrainingCandidate(['python3.11', 'train.py']));
    assert.ok(!isTrainingCandidate(['python3', '-m', 'vllm.entrypoints.openai.api_server']));
    assert.ok(!isTrainingCandidate(['node', 'x.js']));
    assert.equal(idStem('train.py'), 'train');
  });

  it('/proc facts: stat with spaces in the name, zombie exit status', () => {
    const stat =
      '4242 (py thon) (x)) Z 1 4242 4242 0 -1 4194560 1 0 0 0 5 1 0 0 20 0 1 0 123456 0 0 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 256';
    const s = parseStat(stat);
    assert.deepEqual([s?.pid, s?.comm, s?.state, s?.ppid, s?.startTicks, s?.exitCode], [4242, 'py thon) (x)', 'Z', 1, 123456, 256]);
    assert.equal(describeExit(256).text, 'exit code 1');
    assert.equal(describeExit(9).text, 'killed by signal 9');
  });

  it("a run's owner is read through proc-owner's cgroup parser (captured cgroup files)", async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-owner-'));
    try {
      const put = (pid: number, fixture: string): void => {
        fs.mkdirSync(path.join(root, String(pid)));
        fs.copyFileSync(path.join(__dirname, '..', '..', '..', 'fixtures', 'proc-owner', fixture), path.join(root, String(pid), 'cgroup'));
      };
      put(10, 'docker-24-cgroupv2-systemd-cgroup.txt');
      put(11, 'kubernetes-1.28-containerd-cgroupv2-systemd-cgroup.txt');
      fs.mkdirSync(path.join(root, '12'));
      fs.writeFileSync(path.join(root, '12', 'cgroup'), '0::/init.scope\n');
      const docker = await readOwner(root, 10);
      assert.equal(docker?.kind, 'container');
      assert.equal(docker?.runtime, 'docker');
      assert.match(docker?.containerId ?? '', /^[0-9a-f]{64}$/);
      assert.equal(ownerLabel(docker), `container ${docker?.containerId?.slice(0, 12)}`);
      const pod = await readOwner(root, 11);
      assert.equal(pod?.kind, 'pod');
      assert.match(pod?.podUid ?? '', /^[0-9a-f-]{36}$/);
      assert.deepEqual(await readOwner(root, 12), { kind: 'host' });
      assert.equal(ownerLabel(await readOwner(root, 12)), null);
      assert.equal(await readOwner(root, 13), null, 'no such process');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('config: validation errors name the key', () => {
    assert.throws(() => parseRunsConfig({ watch: [{ command: '(' }] }, {}), /runs\.watch\[0\]\.command: expected a valid regular expression/);
    assert.throws(() => parseRunsConfig({ watch: [{ logDir: 'rel/dir', name: 'a' }] }, {}), /runs\.watch\[0\]\.logDir/);
    assert.throws(() => parseRunsConfig({ watch: [{ logDir: '/abs' }] }, {}), /runs\.watch\[0\]\.name/);
    assert.throws(() => parseRunsConfig({ watch: [{ name: 'x' }] }, {}), /runs\.watch\[0\]\.command: expected a command pattern or a logDir/);
    assert.throws(() => parseRunsConfig({ bogus: 1 }, {}), /runs\.bogus/);
    assert.throws(() => parseRunsConfig({ watch: [{ command: 'x', metricsUrl: 'ftp://x' }] }, {}), /runs\.watch\[0\]\.metricsUrl/);
    const ok = parseRunsConfig([{ command: 'train\\.py', name: 'mine' }], { RIGWATCH_PROC_ROOT: '/tmp/p' });
    assert.equal(ok.watch[0]?.name, 'mine');
    assert.equal(ok.procRoot, '/tmp/p');
  });
});
