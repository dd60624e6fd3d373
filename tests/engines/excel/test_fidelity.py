"""Formula-evaluation fidelity against the values Excel cached in the public corpus workbooks.

Each workbook is verified in a child process with a time limit, so a hang (a circular
reference that is not detected, say) fails the test instead of stalling the suite.
"""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

import pytest
from tests.engines.excel.books import corpus_dir

CORPUS = corpus_dir()
# overall share of formula cells whose recomputed value matches Excel's cached value
FLOOR = 0.985
PER_BOOK_SECONDS = 60
CIRCULAR_BOOKS = ("formulas__test_test_files_circular.xlsx", "pycel__tests_fixtures_circular.xlsx")


def _verify(path: str) -> dict:
    from montesim.engines.excel.reader import read_workbook
    from montesim.engines.excel.verify import verify

    rep = verify(read_workbook(path))
    return {"compared": rep.compared, "matched": rep.matched, "cycles": rep.cycles}


def _books() -> list[Path]:
    return sorted(p for p in CORPUS.glob("*.xls*") if p.is_file())


@pytest.mark.xdist_group("excel-corpus")
def test_corpus_fidelity() -> None:
    if not CORPUS.is_dir() or not _books():
        pytest.skip(f"Excel corpus not found at {CORPUS} (set MONTESIM_EXCEL_CORPUS)")
    ctx = mp.get_context("fork")
    results: dict[str, dict] = {}
    with ctx.Pool(1) as pool:
        for path in _books():
            job = pool.apply_async(_verify, (str(path),))
            try:
                results[path.name] = job.get(timeout=PER_BOOK_SECONDS)
            except mp.TimeoutError:
                pool.terminate()
                pytest.fail(f"{path.name}: verify did not finish within {PER_BOOK_SECONDS}s")
    compared = sum(r["compared"] for r in results.values())
    matched = sum(r["matched"] for r in results.values())
    for name, r in results.items():
        rate = r["matched"] / r["compared"] if r["compared"] else 1.0
        print(f"{name}: {r['matched']}/{r['compared']} = {rate:.3f} cycles={len(r['cycles'])}")
    rate = matched / compared
    print(f"overall: {matched}/{compared} = {rate:.4f}")
    assert compared > 8000
    for name in CIRCULAR_BOOKS:
        if name in results:
            assert results[name]["cycles"], f"{name}: its circular references were not reported"
    assert rate >= FLOOR
