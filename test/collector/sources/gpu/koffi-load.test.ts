// Where NVML and koffi come from: the library path choice per platform (Windows: System32, then the
// NVSMI folder — untested on real Windows), and koffi from next to the bundle before the package.

import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { koffiNativeName, loadKoffi, nvmlLibraryCandidates, nvmlLibraryMayLoad } from '../../../../collector/sources/gpu/koffi-load';
import { parseGpuConfig } from '../../../../collector/sources/gpu/config';

describe('gpu: NVML library and koffi location', () => {
  it('Windows loads nvml.dll from System32, then the NVSMI folder; Linux the soname; a configured path alone', () => {
    assert.deepEqual(nvmlLibraryCandidates('win32', { SystemRoot: 'D:\\Win', ProgramW6432: 'D:\\PF' }), [
      'D:\\Win\\System32\\nvml.dll',
      'D:\\PF\\NVIDIA Corporation\\NVSMI\\nvml.dll',
    ]);
    assert.deepEqual(nvmlLibraryCandidates('win32', {}), ['C:\\Windows\\System32\\nvml.dll', 'C:\\Program Files\\NVIDIA Corporation\\NVSMI\\nvml.dll']);
    assert.deepEqual(nvmlLibraryCandidates('linux', {}), ['libnvidia-ml.so.1']);
    assert.deepEqual(nvmlLibraryCandidates('win32', {}, 'E:\\nvml.dll'), ['E:\\nvml.dll']);
    assert.deepEqual(parseGpuConfig({}, { SystemRoot: 'C:\\Windows' }, 1000, 'win32').nvmlPaths, [
      'C:\\Windows\\System32\\nvml.dll',
      'C:\\Program Files\\NVIDIA Corporation\\NVSMI\\nvml.dll',
    ]);
    assert.deepEqual(parseGpuConfig({}, { RIGWATCH_NVML_PATH: '/x/libnvidia-ml.so.1' }, 1000, 'linux').nvmlPaths, ['/x/libnvidia-ml.so.1']);
  });

  it('koffi: the native module next to the bundle wins; else the package; else one error naming both', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-koffi-load-'));
    try {
      const fake = { load: (): void => undefined };
      const seen: string[] = [];
      const req = (id: string): unknown => {
        seen.push(id);
        if (id === 'koffi') throw new Error("Cannot find module 'koffi'");
        return fake;
      };
      assert.throws(() => loadKoffi(dir, req), /no koffi for .*absent; koffi package: Cannot find module 'koffi'/);
      fs.writeFileSync(path.join(dir, koffiNativeName()), 'x');
      const k = loadKoffi(dir, req);
      assert.equal(k.koffi, fake);
      assert.match(k.from, /next to the bundle/);
      assert.equal(seen.at(-1), path.join(dir, koffiNativeName()));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('nvmlLibraryMayLoad (no NVML worker without a library)', () => {
  it('checks a path on disk, a soname in LD_LIBRARY_PATH and the loader cache', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-nvml-find-'));
    try {
      const lib = path.join(dir, 'libnvidia-ml.so.1');
      assert.equal(nvmlLibraryMayLoad(lib, {}, 'linux'), false);
      assert.equal(nvmlLibraryMayLoad('libnvidia-ml.so.1', {}, 'linux'), false, 'no NVIDIA driver on this machine');
      fs.writeFileSync(lib, '');
      assert.equal(nvmlLibraryMayLoad(lib, {}, 'linux'), true);
      assert.equal(nvmlLibraryMayLoad('libnvidia-ml.so.1', { LD_LIBRARY_PATH: `/nonexistent:${dir}` }, 'linux'), true);
      assert.equal(nvmlLibraryMayLoad('libc.so.6', {}, 'linux'), true, 'a library the loader cache knows');
      assert.equal(nvmlLibraryMayLoad('C:\\Windows\\System32\\nvml.dll', {}, 'win32'), true, 'unsure elsewhere: the worker tries');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
