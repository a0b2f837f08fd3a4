"""A user's partition queue is the same in every process: workers and API must agree."""

import json
import os
import subprocess
import sys

import pytest

from celeryconfig import ledger_queue as queue_for
from ledger.partitions import partition_of
from workers.routing import partitions_for_worker, worker_queues

USERS = ["user-001", "deposit-provider-master", "withdraw-provider-master", "alice", "bob", "x" * 64]
PROGRAM = (
    "import json, sys\n"
    "from ledger.partitions import partition_of\n"
    "from celeryconfig import ledger_queue as queue_for\n"
    "print(json.dumps({u: queue_for(partition_of(u, 16)) for u in json.loads(sys.argv[1])}))\n"
)


def queues_in_subprocess(hash_seed: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    out = subprocess.run(
        [sys.executable, "-c", PROGRAM, json.dumps(USERS)], env=env, capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out)


def test_queue_of_a_user_is_the_same_in_other_processes():
    here = {user: queue_for(partition_of(user, 16)) for user in USERS}
    # Different hash seeds: a salted hash() would give each process its own answer.
    assert queues_in_subprocess("1") == here
    assert queues_in_subprocess("2") == here


def test_queue_names_are_zero_padded():
    assert queue_for(0) == "ledger.p00"
    assert queue_for(15) == "ledger.p15"


@pytest.mark.parametrize("count", [1, 2, 3, 5, 16, 20])
def test_workers_split_partitions_exactly_once(count):
    owned = [partitions_for_worker(i, count, 16) for i in range(count)]
    assert sorted(p for ps in owned for p in ps) == list(range(16))
    assert max(map(len, owned)) - min(map(len, owned)) <= 1


def test_worker_index_out_of_range_is_refused():
    with pytest.raises(ValueError):
        partitions_for_worker(2, 2, 16)


def test_every_ledger_worker_also_takes_beat_jobs():
    assert worker_queues(0, 2, 16)[-1] == "maintenance"
    assert worker_queues(1, 2, 16)[-1] == "maintenance"
