#!/usr/bin/python3
"""Writes dsrl_ballcircle_small.hdf5, a tiny file in DSRL's layout, with h5py as an independent HDF5 writer.

Run with Debian's interpreter, which has python3-h5py (eng/install-prerequisites.sh --hdf5-tools):

    /usr/bin/python3 tests/Marvel.Core.Tests/Fixtures/make_dsrl_fixture.py

The file is written the way DSRL's dataset export does it: seven root datasets, each created with
create_dataset(key, data=..., compression="gzip"); float32 arrays; numpy bool terminals and timeouts, which
h5py stores as an HDF5 enum over int8 (FALSE = 0, TRUE = 1).

Content (all values exact in float32), N = 17 rows, observation size 8, action size 2:
  episodes: e = 0 has 5 steps (rows 0-4, ends by timeout),
            e = 1 has 4 steps (rows 5-8, ends by termination),
            e = 2 has 6 steps (rows 9-14, ends by timeout),
            then an unfinished tail e = 3 of 2 steps (rows 15-16, no flag), which episode splitting drops.
  i is the row, e the episode, t the step inside the episode.
  observations[i, j]      = i + j / 8
  next_observations[i, j] = i + 1 + j / 8
  actions[i]              = [t / 4, -e / 2]
  rewards[i]              = e + t / 2
  costs[i]                = 1 if i % 3 == 0 else 0
  terminals[i]            = i == 8
  timeouts[i]             = i in (4, 14)
"""

import os

import h5py
import numpy as np

OBS_SIZE = 8
EPISODE_LENGTHS = [5, 4, 6, 2]  # the last one is the unfinished tail
TERMINAL_ROWS = {8}
TIMEOUT_ROWS = {4, 14}


def build():
    rows = []
    for e, length in enumerate(EPISODE_LENGTHS):
        for t in range(length):
            rows.append((e, t))
    n = len(rows)
    j = np.arange(OBS_SIZE, dtype=np.float64) / 8.0
    index = np.arange(n, dtype=np.float64)[:, None]
    data = {
        "observations": (index + j).astype(np.float32),
        "next_observations": (index + 1.0 + j).astype(np.float32),
        "actions": np.array([[t / 4.0, -e / 2.0] for e, t in rows], dtype=np.float32),
        "rewards": np.array([e + t / 2.0 for e, t in rows], dtype=np.float32),
        "costs": np.array([1.0 if i % 3 == 0 else 0.0 for i in range(n)], dtype=np.float32),
        "terminals": np.array([i in TERMINAL_ROWS for i in range(n)], dtype=bool),
        "timeouts": np.array([i in TIMEOUT_ROWS for i in range(n)], dtype=bool),
    }
    return data


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "dsrl_ballcircle_small.hdf5")
    data = build()
    with h5py.File(path, "w") as f:
        for key, value in data.items():
            f.create_dataset(key, data=value, compression="gzip")
    print(f"wrote {path}: {len(data['rewards'])} rows")


if __name__ == "__main__":
    main()
