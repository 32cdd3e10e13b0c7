"""A 1,000,000-long linked list through the whole CLI: nothing recurses."""
from clitest import check_equal, finish, run, run_json, work_path

N = 1_000_000
path = work_path("cli", "chain-1m.json")
with open(path, "w") as f:
    f.write('{"roots":[{"id":1,"name":"head"}],"nodes":[')
    f.write(",".join(f'{{"id":{i},"type":"Node","size":8,"refs":[{i + 1}],"ref_names":["next"]}}' for i in range(1, N)))
    f.write(f',{{"id":{N},"type":"Node","size":8}}]}}')

report = run_json("analyze", path, "--top", "2")
check_equal(report["summary"]["reachable_objects"], N, "all reachable")
check_equal(report["top_retainers"][0]["retained_size"], 8 * N, "head retains the list")
check_equal(report["top_retainers"][1]["chain"]["length"], 1, "second retainer one edge down")
paths = run_json("paths", path, str(N))
chain = paths["entries"][0]["chains"][0]
check_equal(chain["length"], N - 1, "chain to the tail")
check_equal(len(chain["steps"]), 4, "folded to first, run, last")
code, out, err = run("dominators", path)
check_equal(code, 0, "dominators on 1M chain")
check_equal(len(out.splitlines()), N + 1, "dominators rows")
finish()
