"""Hugging Face's tokenizer throughput on a corpus: the reference side of
bench_tokenizer (tests/bench/bench_tokenizer.cpp), which runs this script.

Usage: python tokenizer_throughput.py CORPUS.jsonl TOKENIZER.json THREADS REPEATS
Prints one line: "single MB/s, batched MB/s, ids, checksum", where the
checksum folds every id of every text in order (h = h * 1000003 + id + 1 mod
2^64), the same fold bench_tokenizer computes over the engine's ids.
"""
import json
import os
import sys
import time

threads = sys.argv[3]
os.environ["RAYON_NUM_THREADS"] = threads  # encode_batch's pool: before the library starts it
os.environ["TOKENIZERS_PARALLELISM"] = "true"
from tokenizers import Tokenizer  # noqa: E402


def main():
    corpus, path, _, repeats = sys.argv[1:]
    texts = [json.loads(line)["text"] for line in open(corpus, encoding="utf-8")]
    size = sum(len(t.encode("utf-8")) for t in texts)
    tok = Tokenizer.from_file(path)
    single = batched = 0.0
    ids = []
    for _ in range(int(repeats)):
        t0 = time.perf_counter()
        ids = [tok.encode(t).ids for t in texts]
        single = max(single, size / (time.perf_counter() - t0) / 1e6)
        t0 = time.perf_counter()
        tok.encode_batch(texts)
        batched = max(batched, size / (time.perf_counter() - t0) / 1e6)
    h, n, mask = 0, 0, (1 << 64) - 1
    for row in ids:
        for i in row:
            h = (h * 1000003 + i + 1) & mask
        n += len(row)
    print(f"{single:.3f} {batched:.3f} {n} {h}")


main()
