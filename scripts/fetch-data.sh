#!/usr/bin/env bash
# make data: verify the vendored MNIST, then obtain Fashion-MNIST, CIFAR-10 and
# CIFAR-100 where possible. Idempotent: what is present and verified is left alone.
# Sources, in order: a local directory (--from DIR or TICKET_DATA=DIR), Debian's
# package (Fashion-MNIST), the official download. Downloads go to a temporary
# name and are renamed only after their md5 matches: nothing half-written stays.
set -uo pipefail
cd "$(dirname "$0")/.."
from="${TICKET_DATA:-}"
[ "${1:-}" = "--from" ] && from="${2:-}"
datasets=datasets
status=0

say() { printf '%s\n' "$*"; }
missing() { say "missing: $1 — $2"; }

# MNIST is vendored: it must verify.
if (cd "$datasets/mnist" && md5sum --quiet -c MD5SUMS); then
  say "mnist: vendored files verified"
else
  say "error: $datasets/mnist: checksum mismatch; restore with: git checkout -- $datasets/mnist"; status=1
fi

# download URL DEST MD5: fetch to DEST.partial, verify, rename.
download() {
  local url=$1 dest=$2 md5=$3 tmp="$2.partial"
  mkdir -p "$(dirname "$dest")"
  if ! curl -fsSL --connect-timeout 15 --retry 2 -o "$tmp" "$url" 2>/dev/null; then
    rm -f "$tmp"; return 1
  fi
  if [ "$(md5sum "$tmp" | cut -c1-32)" != "$md5" ]; then
    rm -f "$tmp"; say "error: $url: downloaded file does not match md5 $md5 (discarded)"; return 2
  fi
  mv -f "$tmp" "$dest"
}

# Fashion-MNIST: project dir, TICKET_DATA, Debian package, official download.
fashion_dir=/usr/share/datasets/fashion-mnist
if [ -d "$datasets/fashion-mnist" ] || { [ -n "$from" ] && [ -d "$from/fashion-mnist" ]; } || [ -d "$fashion_dir" ]; then
  say "fashion-mnist: present"
elif [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null && \
     { apt-get install -y -qq dataset-fashion-mnist >/dev/null 2>&1 || \
       { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq dataset-fashion-mnist >/dev/null 2>&1; }; }; then
  say "fashion-mnist: installed Debian package dataset-fashion-mnist ($fashion_dir)"
else
  base=http://fashion-mnist.s3-website.eu-central-1.amazonaws.com
  ok=1
  for pair in train-images-idx3-ubyte.gz:8d4fb7e6c68d591d4c3dfef9ec88bf0d train-labels-idx1-ubyte.gz:25c81989df183df01b3e8a0aad5dffbe \
              t10k-images-idx3-ubyte.gz:bef4ecab320f06d8554ea6380940ec79 t10k-labels-idx1-ubyte.gz:bb300cfdad3c16e7a12a480ee83cd310; do
    download "$base/${pair%%:*}" "$datasets/fashion-mnist/${pair%%:*}" "${pair#*:}" || { ok=0; break; }
  done
  if [ $ok = 1 ]; then say "fashion-mnist: downloaded and verified"; else
    missing fashion-mnist "install Debian's dataset-fashion-mnist (as root), or put the four .gz files in $datasets/fashion-mnist"; fi
fi

# CIFAR: a local directory first (linked, not copied), then the official archive.
fetch_cifar() {
  local name=$1 subdir=$2 archive=$3 md5=$4
  if [ -e "$datasets/$name" ]; then say "$name: present ($datasets/$name)"; return; fi
  if [ -n "$from" ]; then
    for candidate in "$from/$name" "$from/$subdir" "$from/$archive"; do
      if [ -e "$candidate" ]; then
        mkdir -p "$datasets/$name"
        ln -sfn "$(cd "$(dirname "$candidate")" && pwd)/$(basename "$candidate")" "$datasets/$name/$(basename "$candidate")"
        say "$name: linked $candidate into $datasets/$name"; return
      fi
    done
  fi
  if download "https://www.cs.toronto.edu/~kriz/$archive" "$datasets/$name/$archive" "$md5"; then
    say "$name: downloaded and verified $archive"
  else
    rmdir "$datasets/$name" 2>/dev/null
    missing "$name" "no network and no local copy; download $archive (md5 $md5) into $datasets/$name/, or run with TICKET_DATA=DIR holding $subdir/"
  fi
}
fetch_cifar cifar-10 cifar-10-batches-bin cifar-10-binary.tar.gz c32a1d4ab5d03f1284b67883e8d87530
fetch_cifar cifar-100 cifar-100-binary cifar-100-binary.tar.gz 03b5dce01913d631647c71ecec9e9cb8

# Finally check everything present, by content, with the project's own reader.
.build/release/ticket data verify || status=1
exit $status
