#!/usr/bin/python3
"""read_tfevents.py FILE - decode a TensorBoard events file independently of gradscope.

Used by tests/test_tfevents.c as a second opinion on src/io/tfevents.c.  It needs only
the protobuf runtime (Debian: python3-protobuf); no TensorFlow, no TensorBoard, no protoc:
the Event / Summary / HistogramProto messages (tensorflow/core/util/event.proto and
tensorflow/core/framework/summary.proto, the fields gradscope uses) are declared here as a
FileDescriptorProto and their classes are built at run time.

It checks the TFRecord framing (both masked CRC-32Cs, computed here with a table of its own)
and prints one JSON object on stdout:
  {"records": N, "file_version": "...",
   "scalars": [{"step", "wall_time", "tag", "value"}, ...],
   "histograms": [{"step", "wall_time", "tag", "min", "max", "num", "sum", "sum_squares",
                   "bucket_limit": [...], "bucket": [...], "limits_are_tf_defaults": bool}, ...]}
Non-finite numbers are written as the strings "nan", "inf", "-inf" (strict JSON has none).
Exit status 1 with a message on stderr when the file is malformed.
"""
import json
import math
import struct
import sys

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

F = descriptor_pb2.FieldDescriptorProto


def build_classes():
    fdp = descriptor_pb2.FileDescriptorProto(name="gs_tfevents_ref.proto", package="tensorflow",
                                             syntax="proto3")
    h = fdp.message_type.add(name="HistogramProto")
    for num, name in enumerate(["min", "max", "num", "sum", "sum_squares"], start=1):
        h.field.add(name=name, number=num, type=F.TYPE_DOUBLE, label=F.LABEL_OPTIONAL)
    for num, name in [(6, "bucket_limit"), (7, "bucket")]:
        f = h.field.add(name=name, number=num, type=F.TYPE_DOUBLE, label=F.LABEL_REPEATED)
        f.options.packed = True
    s = fdp.message_type.add(name="Summary")
    v = s.nested_type.add(name="Value")
    v.oneof_decl.add(name="value")
    v.field.add(name="node_name", number=7, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
    v.field.add(name="tag", number=1, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
    v.field.add(name="simple_value", number=2, type=F.TYPE_FLOAT, label=F.LABEL_OPTIONAL, oneof_index=0)
    v.field.add(name="histo", number=5, type=F.TYPE_MESSAGE, label=F.LABEL_OPTIONAL, oneof_index=0,
                type_name=".tensorflow.HistogramProto")
    s.field.add(name="value", number=1, type=F.TYPE_MESSAGE, label=F.LABEL_REPEATED,
                type_name=".tensorflow.Summary.Value")
    e = fdp.message_type.add(name="Event")
    e.oneof_decl.add(name="what")
    e.field.add(name="wall_time", number=1, type=F.TYPE_DOUBLE, label=F.LABEL_OPTIONAL)
    e.field.add(name="step", number=2, type=F.TYPE_INT64, label=F.LABEL_OPTIONAL)
    e.field.add(name="file_version", number=3, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL, oneof_index=0)
    e.field.add(name="summary", number=5, type=F.TYPE_MESSAGE, label=F.LABEL_OPTIONAL, oneof_index=0,
                type_name=".tensorflow.Summary")
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    desc = pool.FindMessageTypeByName("tensorflow.Event")
    if hasattr(message_factory, "GetMessageClass"):      # protobuf >= 4.22 (Python 4.x line)
        return message_factory.GetMessageClass(desc)
    return message_factory.MessageFactory(pool).GetPrototype(desc)


def crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


TABLE = crc32c_table()


def masked_crc(data):
    c = 0xFFFFFFFF
    for b in data:
        c = TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    c ^= 0xFFFFFFFF
    return ((((c >> 15) | (c << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def tf_default_buckets():
    """tensorflow/core/lib/histogram/histogram.cc InitDefaultBucketsInner."""
    pos, v = [], 1.0e-12
    while v < 1.0e20:
        pos.append(v)
        v *= 1.1
    pos.append(sys.float_info.max)
    return [-x for x in reversed(pos)] + [0.0] + pos


def num(x):
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def main():
    data = open(sys.argv[1], "rb").read()
    event_cls = build_classes()
    defaults = set(tf_default_buckets())
    out = {"records": 0, "file_version": None, "scalars": [], "histograms": []}
    off = 0
    while off < len(data):
        if len(data) - off < 12:
            sys.exit("offset %d: truncated header" % off)
        (length,) = struct.unpack_from("<Q", data, off)
        (lcrc,) = struct.unpack_from("<I", data, off + 8)
        if lcrc != masked_crc(data[off:off + 8]):
            sys.exit("offset %d: length CRC mismatch" % off)
        if off + 12 + length + 4 > len(data):
            sys.exit("offset %d: truncated record" % off)
        payload = data[off + 12:off + 12 + length]
        (dcrc,) = struct.unpack_from("<I", data, off + 12 + length)
        if dcrc != masked_crc(payload):
            sys.exit("offset %d: data CRC mismatch" % off)
        ev = event_cls()
        ev.ParseFromString(payload)
        out["records"] += 1
        if ev.HasField("file_version"):
            out["file_version"] = ev.file_version
        for v in ev.summary.value:
            kind = v.WhichOneof("value")
            if kind == "simple_value":
                out["scalars"].append({"step": ev.step, "wall_time": ev.wall_time, "tag": v.tag,
                                       "value": num(v.simple_value)})
            elif kind == "histo":
                hp = v.histo
                out["histograms"].append({
                    "step": ev.step, "wall_time": ev.wall_time, "tag": v.tag,
                    "min": num(hp.min), "max": num(hp.max), "num": num(hp.num), "sum": num(hp.sum),
                    "sum_squares": num(hp.sum_squares),
                    "bucket_limit": [num(x) for x in hp.bucket_limit],
                    "bucket": [num(x) for x in hp.bucket],
                    "limits_are_tf_defaults": all(x in defaults for x in hp.bucket_limit)})
        off += 12 + length + 4
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
