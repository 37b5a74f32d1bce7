#!/bin/sh
# ensure-deps.sh test|study - install the Debian packages gradscope needs, if missing.
# Runs apt-get only when something is absent; needs root for that.
need=""
want="gcc make zlib1g-dev libc6-dev pkg-config"
case "$1" in
    study) want="$want dataset-fashion-mnist" ;;
    test)  want="$want dataset-fashion-mnist python3-protobuf chromium" ;;
esac
for p in $want; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need="$need $p"
done
[ -z "$need" ] && exit 0
echo "gradscope: installing Debian packages:$need" >&2
if [ "$(id -u)" -ne 0 ]; then
    echo "gradscope: need root to install:$need (run: sudo apt-get install$need)" >&2
    exit 1
fi
apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
