// The host list of "Connect to Remote Host…": ~/.ssh/config with Includes (globs, relative, ~, loops),
// wildcard/negated patterns skipped, Match blocks ignored, first value wins.

import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expandGlob, isPlainHostPattern, readSshConfigHosts, splitConfigLine } from '../../extension/connection/ssh-config';

const HOME = path.resolve(__dirname, '..', 'fixtures', 'ssh', 'home');

describe('ssh config host list', () => {
  it('splits lines like ssh: spaces, one "=", quotes, comments', () => {
    assert.deepEqual(splitConfigLine('  HostName   10.0.0.1 # comment'), ['HostName', '10.0.0.1']);
    assert.deepEqual(splitConfigLine('User=jump'), ['User', 'jump']);
    assert.deepEqual(splitConfigLine('Port = 2200'), ['Port', '2200']);
    assert.deepEqual(splitConfigLine('Include "/path with space/*.conf" other'), ['Include', '/path with space/*.conf', 'other']);
    assert.deepEqual(splitConfigLine('LocalCommand echo a=b'), ['LocalCommand', 'echo', 'a=b']);
    assert.deepEqual(splitConfigLine('# only a comment'), []);
  });

  it('treats wildcard and negated patterns as non-hosts', () => {
    for (const p of ['*', 'gpu-?', '!decoy', '*.internal']) assert.equal(isPlainHostPattern(p), false, p);
    for (const p of ['gpu01', 'lab-box', '10.0.0.1']) assert.equal(isPlainHostPattern(p), true, p);
  });

  it('lists the hosts of the fixture config in file order, following Includes', () => {
    const hosts = readSshConfigHosts({ home: HOME });
    assert.deepEqual(
      hosts.map((h) => h.alias),
      ['node-a', 'node-b', 'lab-box', 'gpu01', 'gpu02', 'bastion', 'train-box', 'quoted-box'],
    );
  });

  it('keeps HostName/User/Port of each host block, first value wins, Match blocks do not leak', () => {
    const by = new Map(readSshConfigHosts({ home: HOME }).map((h) => [h.alias, h]));
    assert.deepEqual({ ...by.get('gpu01'), file: undefined }, { alias: 'gpu01', hostName: '10.0.0.11', user: 'alice', port: 2222, file: undefined, line: 9 });
    assert.equal(by.get('gpu01')!.file, path.join(HOME, '.ssh', 'config'));
    assert.equal(by.get('bastion')!.user, 'jump');
    assert.equal(by.get('train-box')!.port, 2200);
    assert.equal(by.get('train-box')!.hostName, 'train.example.org');
    assert.equal(by.get('quoted-box')!.hostName, 'quoted.example.org');
    assert.equal(by.get('lab-box')!.port, 22022);
    assert.equal(by.get('lab-box')!.file, path.join(HOME, '.ssh', 'conf.extra', 'lab'));
    assert.equal(by.get('node-b')!.user, 'ml');
  });

  it('expands globs like glob(3): sorted, no dotfiles, files only, nothing for a missing dir', () => {
    assert.deepEqual(expandGlob(path.join(HOME, '.ssh', 'config.d', '*.conf')), [path.join(HOME, '.ssh', 'config.d', '10-cluster.conf')]);
    assert.deepEqual(expandGlob(path.join(HOME, '.ssh', 'config.d', '.*.conf')), [path.join(HOME, '.ssh', 'config.d', '.hidden.conf')]);
    assert.deepEqual(expandGlob(path.join(HOME, '.ssh', 'conf?extra', 'l*')), [path.join(HOME, '.ssh', 'conf.extra', 'lab')]);
    assert.deepEqual(expandGlob('/nonexistent/rigwatch/*.conf'), []);
  });

  it('agrees with the real `ssh -G` on HostName/User/Port of every host it lists', () => {
    if (!fs.existsSync('/usr/bin/ssh')) throw new Error('ssh is not installed: apt-get install openssh-client');
    // ssh resolves `~` and relative Includes against the real user's ~/.ssh: give it a copy of the fixture
    // whose Includes are absolute paths inside the copy, so this machine's own ssh config plays no part.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-sshcfg-'));
    try {
      const ssh = path.join(dir, '.ssh');
      fs.cpSync(path.join(HOME, '.ssh'), ssh, { recursive: true });
      for (const f of [path.join(ssh, 'config'), path.join(ssh, 'config.d', '10-cluster.conf')]) {
        const text = fs
          .readFileSync(f, 'utf8')
          // ssh refuses an Include loop outright ("Too many recursive configuration includes"); the picker
          // just lists what it can. Drop the loop for the comparison.
          .replace(/^Include ~\/\.ssh\/config$/m, '')
          .replace(/^Include ~\/\.ssh\//gm, `Include ${ssh}/`)
          .replace(/^Include (?![/~])/gm, `Include ${ssh}/`);
        assert.ok(!/^Include (?!\/)/m.test(text), `every Include in ${f} made absolute`);
        fs.writeFileSync(f, text);
      }
      const ours = readSshConfigHosts({ home: HOME });
      assert.ok(ours.length >= 8);
      for (const h of ours) {
        const out = execFileSync('ssh', ['-G', '-F', path.join(ssh, 'config'), '--', h.alias], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
        const g = (k: string): string | undefined => new RegExp(`^${k} (.*)$`, 'm').exec(out)?.[1];
        // ssh expands %h in HostName; we show the raw value.
        if (h.hostName && !h.hostName.includes('%')) assert.equal(g('hostname'), h.hostName, `${h.alias} hostname`);
        if (h.user) assert.equal(g('user'), h.user, `${h.alias} user`);
        assert.equal(g('port'), String(h.port ?? 22), `${h.alias} port`);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('returns an empty list when there is no config, and stops at the Include depth limit', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-sshcfg-'));
    try {
      assert.deepEqual(readSshConfigHosts({ home: dir }), []);
      fs.mkdirSync(path.join(dir, '.ssh'));
      // A chain of 20 files, each including the next: ssh stops at depth 16.
      for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(dir, '.ssh', i === 0 ? 'config' : `c${i}`), `Host h${i}\nInclude c${i + 1}\n`);
      const hosts = readSshConfigHosts({ home: dir }).map((h) => h.alias);
      assert.equal(hosts.length, 17);
      assert.equal(hosts[16], 'h16');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
