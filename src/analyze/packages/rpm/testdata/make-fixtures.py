#!/usr/bin/env python3
"""Derives the Berkeley DB and ndb fixtures from rpmdb.sqlite (see README.md). Needs db_load (db5.3-util).

usage: make-fixtures.py RPMDB_SQLITE OUTPUT_DIR
"""
import os, sqlite3, struct, subprocess, sys, tempfile, zlib

src, out_dir = sys.argv[1], sys.argv[2]
with open(src, 'rb') as f:
    image = f.read()
con = sqlite3.connect(':memory:')
con.deserialize(image[:18] + b'\x01\x01' + image[20:])  # a WAL-mode file, read from memory as rollback mode
real = [(h, bytes(b)) for h, b in con.execute('SELECT hnum, blob FROM Packages ORDER BY hnum')]


def header(tags):
    """An rpm header blob with an immutable region, entries sorted by tag, data in entry order (as rpm requires)."""
    entries, data = [], b''
    for tag, typ, val in sorted(tags):
        if typ == 4:  # INT32, 4-byte aligned
            while len(data) % 4:
                data += b'\0'
            off = len(data)
            data += struct.pack('>i', val)
        else:  # STRING
            off = len(data)
            data += val.encode() + b'\0'
        entries.append((tag, typ, off, 1))
    il = len(entries) + 1
    trailer = len(data)
    data += struct.pack('>iiii', 63, 7, -(il * 16), 16)
    index = struct.pack('>iiii', 63, 7, trailer, 16) + b''.join(struct.pack('>iiii', *e) for e in entries)
    return struct.pack('>II', il, len(data)) + index + data


def bdb(path, rows, order, pagesize, extra=()):
    """A hash database made by Berkeley DB itself; key 0 holds the record counter, as rpm's Packages does."""
    lines = ['VERSION=3', 'format=bytevalue', 'type=hash', f'db_pagesize={pagesize}',
             f'db_lorder={"1234" if order == "<" else "4321"}', *extra, 'HEADER=END',
             ' ' + struct.pack(order + 'I', 0).hex(), ' ' + struct.pack(order + 'I', len(rows)).hex()]
    for key, blob in rows:
        lines += [' ' + struct.pack(order + 'I', key).hex(), ' ' + blob.hex()]
    lines.append('DATA=END')
    with tempfile.NamedTemporaryFile('w', suffix='.dump') as dump:
        dump.write('\n'.join(lines) + '\n')
        dump.flush()
        if os.path.exists(path):
            os.remove(path)
        subprocess.check_call(['db_load', '-f', dump.name, path])


bdb(f'{out_dir}/Packages-le-4096', real, '<', 4096)
bdb(f'{out_dir}/Packages-be-8192', real, '>', 8192)
bdb(f'{out_dir}/Packages-le-512-chksum', real, '<', 512, ['chksum=1'])

many = []
for i in range(1, 121):
    tags = [(1000, 6, f'synthetic-{i:03d}'), (1001, 6, f'1.{i}'), (1002, 6, f'{i % 7}.el9'), (1022, 6, 'x86_64'),
            (1044, 6, f'synthetic-src-{i % 10}-1.{i}-{i % 7}.el9.src.rpm'), (1014, 6, 'MIT')]
    if i % 3 == 0:
        tags.append((1003, 4, i % 5))
    many.append((i, header(tags)))
bdb(f'{out_dir}/Packages-many-le-1024', many, '<', 1024)

# ndb, laid out as rpm's lib/backend/ndb/rpmpkg.c writes it: header, one slot page, 16-byte blocks of blobs.
slot_pages = 1
block = slot_pages * 4096 // 16
slots = []
for n, (key, blob) in enumerate(real):
    if n == 2:
        block += 4  # a hole, as left by an erased package
    body = struct.pack('<IIII', 0x53626c42, key, 7, len(blob)) + blob
    tail = struct.pack('<III', zlib.adler32(blob) & 0xffffffff, len(blob), 0x45626c42)
    body += b'\0' * ((-(len(body) + len(tail))) % 16) + tail
    slots.append((key, block, len(body) // 16, body))
    block += len(body) // 16
image = bytearray(block * 16)
struct.pack_into('<IIIII', image, 0, 0x506d7052, 0, 11, slot_pages, len(real) + 1)
for s in range(2, 256):
    struct.pack_into('<I', image, s * 16, 0x746f6c53)
for n, (key, off, count, body) in enumerate(slots):
    struct.pack_into('<IIII', image, (2 + n) * 16, 0x746f6c53, key, off, count)
    image[off * 16:off * 16 + len(body)] = body
with open(f'{out_dir}/Packages.db', 'wb') as f:
    f.write(image)
