"""check_contact_demo.py - checks what `locad-demo contact` wrote (CTest demo_contact).

usage: check_contact_demo.py DIR STEPS

DIR/steps.jsonl must hold STEPS consecutive records, each with a positive
minimum distance and no intersection, and contact with the floor by the
end; DIR/frames must hold frames 0..STEPS; DIR/final.png must be a valid
PNG (signature, chunk CRCs, a zlib stream of the declared RGB size).
"""
import json
import os
import struct
import sys
import zlib


def check_records(path, steps):
    recs = [json.loads(line) for line in open(path)]
    assert [r["step"] for r in recs] == list(range(1, steps + 1)), "records are not steps 1..%d" % steps
    for r in recs:
        assert r["min_distance"] > 0.0, "step %d: distance %g" % (r["step"], r["min_distance"])
        assert r["intersections"] == 0, "step %d: %d intersections" % (r["step"], r["intersections"])
        assert r["newton"] >= 1 and r["lists"] >= 1
    assert recs[-1]["active"]["plane"] > 0, "no floor contact by step %d" % steps


def check_png(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, chunks = 8, {}
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        crc, = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])
        assert zlib.crc32(kind + body) & 0xFFFFFFFF == crc, "bad CRC in %s" % kind
        chunks[kind] = body
        pos += 12 + n
    w, h, depth, ctype = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, ctype) == (8, 2)
    raw = zlib.decompress(chunks[b"IDAT"])
    assert len(raw) == h * (1 + 3 * w), "IDAT holds %d bytes" % len(raw)
    assert len(set(raw[1:1 + 3 * w * h:97])) > 4, "the image is blank"


def main():
    out, steps = sys.argv[1], int(sys.argv[2])
    check_records(os.path.join(out, "steps.jsonl"), steps)
    frames = sorted(os.listdir(os.path.join(out, "frames")))
    assert frames == ["frame_%04d.obj" % k for k in range(steps + 1)], "frames: %s" % frames[:3]
    check_png(os.path.join(out, "final.png"))
    print("contact demo output ok: %d steps" % steps)


if __name__ == "__main__":
    main()
