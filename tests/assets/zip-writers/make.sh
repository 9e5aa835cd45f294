#!/usr/bin/env bash
# Regenerates the archives of this folder with the real tools (Info-ZIP zip 3.0,
# OpenJDK's jar) and records what Java's streaming reader sees in each (streamed.tsv).
# Needs: python3, zip, jar, java (17+). Run from anywhere; writes into this folder.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
mkdir -p src/Definitions src/Files/Images
python3 - <<'PY'
import random
r = random.Random(4)
open("src/Definitions/main.yaml", "w").write("tosca_definitions_version: 1\n" * 40)
open("src/Files/Images/image.bin", "wb").write(r.randbytes(70000))
open("src/Files/text.txt", "w").write("".join(r.choice("ab \n") for _ in range(50000)))
open("src/empty.txt", "w").close()
PY
cd src
touch -d 2020-01-01T00:00:00Z Definitions/main.yaml Files/Images/image.bin Files/text.txt empty.txt
rm -f "$here"/*.zip "$here"/*.jar
zip -q -X -r "$here/infozip.zip" Definitions Files empty.txt
zip -q -X -r -0 "$here/infozip-stored.zip" Definitions Files empty.txt
zip -q -X -r -fz "$here/infozip-zip64.zip" Definitions Files empty.txt
echo "an archive comment" | zip -q -X -r -z "$here/infozip-comment.zip" Definitions Files empty.txt
# Written to a pipe: data descriptors (flag bit 3) after every member.
zip -q -X -r - Definitions Files empty.txt | cat > "$here/infozip-stream.zip"
zip -q -X -r -fz - Definitions Files empty.txt | cat > "$here/infozip-stream-zip64.zip"
# jar: deflated members with data descriptors; -0 stored members without.
jar --create --file "$here/jar.jar" Definitions Files empty.txt
jar --create --no-compress --file "$here/jar-stored.jar" Definitions Files empty.txt
cd "$here"
# Java's ZipInputStream gives up on two of them (a "!" line, see README.md).
java ZipStreamDump.java *.zip *.jar > streamed.tsv
