// The static host inventory on Linux: read in the main thread from os-release and Node, named as
// systeminformation names it (which stays the source on other platforms, in a worker).

import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cpuDisplayName, linuxInventory, osReleaseName } from '../../../../collector/sources/host/inventory';

const FIXTURES = path.join(__dirname, '..', '..', '..', 'fixtures', 'host');

describe('host inventory (Linux)', function () {
  this.timeout(30_000);

  it('names the OS from a captured os-release as systeminformation does (Debian 12)', () => {
    assert.equal(osReleaseName(fs.readFileSync(path.join(FIXTURES, 'debian-12-etc-os-release.txt'), 'utf8')), 'Debian GNU/Linux 12');
    assert.equal(osReleaseName('ID=x\n'), undefined, 'no NAME: nothing to tell');
  });

  it('names CPUs as systeminformation does: no clock, (R)/(TM) as symbols, no "CPU"', () => {
    assert.equal(cpuDisplayName('Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz'), 'Intel Xeon\u00ae Gold 6248');
    assert.equal(cpuDisplayName('Intel(R) Core(TM) i7-8700K CPU @ 3.70GHz'), 'Intel Core\u2122 i7-8700K');
    assert.equal(cpuDisplayName('AMD EPYC'), 'AMD EPYC');
  });

  it('agrees with systeminformation on this machine', async function () {
    if (process.platform !== 'linux') this.skip();
    const si = await import('systeminformation');
    const [cpu, o] = await Promise.all([si.cpu(), si.osInfo()]);
    const inv = linuxInventory();
    assert.equal(inv.cpuModel, [cpu.manufacturer, cpu.brand].filter((s) => s && s.trim()).join(' '));
    assert.equal(inv.os, [o.distro, o.release].filter((s) => s && s.trim() && s !== 'unknown').join(' '));
    assert.equal(inv.kernel, o.kernel);
    assert.equal(inv.cpuCores, cpu.cores);
  });

  it('starts no worker thread on Linux', function () {
    if (process.platform !== 'linux') this.skip();
    // In a fresh process (the inventory is read once per process and cached); only the collector's own
    // workers count (esbuild-register runs one of its own).
    const script = `
      const wt = require('node:worker_threads');
      let started = 0;
      const W = wt.Worker;
      wt.Worker = class extends W { constructor(f, o) { if (o && o.workerData && o.workerData.rigwatchWorker) started++; super(f, o); } };
      require('./collector/sources/host/inventory').hostInventory().then((inv) => {
        process.stdout.write(JSON.stringify({ started, os: inv.os }));
        process.exit(0);
      });`;
    const out = JSON.parse(
      execFileSync(process.execPath, ['-r', 'esbuild-register', '-e', script], { encoding: 'utf8', cwd: path.join(__dirname, '..', '..', '..', '..') }),
    ) as {
      started: number;
      os: string;
    };
    assert.equal(out.started, 0, 'no worker thread');
    assert.ok(out.os.length > 0, 'and still an OS name');
  });
});
