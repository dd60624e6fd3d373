"""Formula-evaluation fidelity against the values Excel cached in two corpora: other
evaluators' test workbooks (``excel``) and models people published (``excel-real``).

Each workbook is verified in a child process with a time limit, so a hang (a circular
reference that is not detected, say) fails the test instead of stalling the suite. Cells
that draw random numbers, read the clock, belong to a what-if data table or anchor an
iterative loop are not compared (verify reports them); everything else is.
"""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

import pytest
from tests.engines.excel.books import corpus_dir

# per corpus: (the least share of compared formula cells matching Excel, the least number
# of cells compared); floors are set at what the engine reaches, to catch regressions
CORPORA = {
    "excel": (0.992, 8000),  # measured 8,851 of 8,919 (99.24%)
    "excel-real": (0.9995, 160_000),  # measured 167,898 of 167,938 (99.98%)
}
PER_BOOK_SECONDS = 600
CIRCULAR_BOOKS = ("formulas__test_test_files_circular.xlsx", "pycel__tests_fixtures_circular.xlsx")


def _verify(path: str) -> dict:
    from montesim.engines.excel.reader import read_workbook
    from montesim.engines.excel.verify import verify

    rep = verify(read_workbook(path))
    return {
        "compared": rep.compared,
        "matched": rep.matched,
        "cycles": rep.cycles,
        "errors": rep.errors,
    }


def _books(corpus: Path) -> list[Path]:
    return sorted(p for p in corpus.glob("*.xls*") if p.is_file())


@pytest.mark.xdist_group("excel-corpus")
@pytest.mark.parametrize(
    "name",
    # the real models take several CPU-minutes to verify: `make test-all` runs them
    ["excel", pytest.param("excel-real", marks=pytest.mark.slow)],
)
def test_corpus_fidelity(name: str) -> None:
    corpus = corpus_dir(name)
    if not corpus.is_dir() or not _books(corpus):
        pytest.skip(f"Excel corpus {name!r} not found at {corpus}")
    floor, least = CORPORA[name]
    ctx = mp.get_context("fork")
    results: dict[str, dict] = {}
    with ctx.Pool(1) as pool:
        for path in _books(corpus):
            job = pool.apply_async(_verify, (str(path),))
            try:
                results[path.name] = job.get(timeout=PER_BOOK_SECONDS)
            except mp.TimeoutError:
                pool.terminate()
                pytest.fail(f"{path.name}: verify did not finish within {PER_BOOK_SECONDS}s")
    compared = sum(r["compared"] for r in results.values())
    matched = sum(r["matched"] for r in results.values())
    for book, r in results.items():
        rate = r["matched"] / r["compared"] if r["compared"] else 1.0
        print(f"{book}: {r['matched']}/{r['compared']} = {rate:.3f} cycles={len(r['cycles'])}")
    rate = matched / compared
    print(f"{name}: {matched}/{compared} = {rate:.4f}")
    assert compared > least
    for book in CIRCULAR_BOOKS:
        if book in results:
            assert results[book]["cycles"], f"{book}: its circular references were not reported"
    crashed = {book: r["errors"] for book, r in results.items() if r["errors"]}
    assert not any("internal error" in m for e in crashed.values() for m in e.values()), crashed
    assert rate >= floor
