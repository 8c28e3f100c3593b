#!/usr/bin/env python3
"""Runs a command N times (stdout discarded) and prints the best wall-clock time and that run's CPU
time (user + system, of the command and its children) in seconds: "WALL CPU".

usage: best_time.py N CMD [ARG…]
"""
import resource
import subprocess
import sys
import time


def main():
    runs, command = int(sys.argv[1]), sys.argv[2:]
    best = None
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, check=True)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if best is None or wall < best[0]:
            best = (wall, cpu)
    print(f"{best[0]:.3f} {best[1]:.3f}")


if __name__ == "__main__":
    main()
