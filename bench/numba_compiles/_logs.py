"""The compile logs written by sitecustomize.py, read by analyze.py and duplicates.py."""


def exclusive_cpu(recs: list) -> list:
    """CPU of each record without its direct children's (records are appended as compiles
    finish, so a record's children come before it, one depth deeper)."""
    excl = [r["cpu"] for r in recs]
    for i, r in enumerate(recs):
        k = i - 1
        while k >= 0 and recs[k]["depth"] > r["depth"]:
            if recs[k]["depth"] == r["depth"] + 1:
                excl[i] -= recs[k]["cpu"]
            k -= 1
    return excl
