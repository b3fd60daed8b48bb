"""The paper's published scores (Ailem et al., EMNLP 2018), transcribed for side-by-side tables.

Table 2: Spearman's rho per benchmark in two settings, all pairs ('all', the paper's 100%
column) and pairs of two visual words ('visual'); None where the paper has '-'. Table 3: pairs
of two words of the held-out subset of 2K visual words; (*) marks models trained without
those words' features. tests/test_reproduce.py checks this transcription against the paper's text.
"""

BENCHMARKS = ("SEMSIM", "SimLex", "SIM", "EN-RG", "EN-MC", "MEN", "REL", "MTurk", "VISSIM", "WORDSIM")

# visual-setting coverage (% of each benchmark's pairs), Table 2's header
VISUAL_COVERAGE = dict(zip(BENCHMARKS, (98, 39, 44, 72, 73, 54, 53, 26, 98, 39)))

_T2 = """
CNN                  - 0.49 - 0.41 - 0.49 - 0.54 - 0.46 - 0.54 - 0.20 - 0.18 - 0.53 - 0.28
VAE                  - 0.65 - 0.43 - 0.51 - 0.56 - 0.55 - 0.62 - 0.22 - 0.40 - 0.62 - 0.37
SGNS                 0.50 0.50 0.33 0.35 0.66 0.66 0.60 0.55 0.60 0.52 0.65 0.67 0.56 0.51 0.65 0.63 0.38 0.38 0.61 0.60
CNN+SGNS             - 0.67 - 0.48 - 0.65 - 0.60 - 0.55 - 0.74 - 0.44 - 0.51 - 0.63 - 0.56
VAE+SGNS             - 0.70 - 0.51 - 0.67 - 0.61 - 0.60 - 0.76 - 0.45 - 0.55 - 0.63 - 0.56
V-SGNS               0.58 0.58 0.29 0.30 0.66 0.71 0.73 0.73 0.69 0.69 0.64 0.65 0.51 0.52 0.60 0.65 0.42 0.42 0.59 0.64
IV-SGNS(LINEAR)      0.49 0.50 0.31 0.33 0.55 0.61 0.58 0.56 0.59 0.65 0.60 0.62 0.41 0.38 0.57 0.71 0.36 0.37 0.46 0.51
IV-SGNS(NONLINEAR)   0.44 0.44 0.30 0.32 0.53 0.59 0.54 0.53 0.59 0.63 0.57 0.59 0.40 0.37 0.56 0.71 0.32 0.33 0.44 0.48
PIXIE+               0.63 0.63 0.35 0.48 0.63 0.72 0.65 0.60 0.62 0.62 0.64 0.73 0.46 0.56 0.55 0.55 0.54 0.54 0.50 0.59
PIXIE-concat         0.71 0.71 0.39 0.53 0.68 0.71 0.73 0.73 0.69 0.71 0.68 0.76 0.52 0.59 0.60 0.59 0.60 0.61 0.58 0.65
"""

_T3 = """
SGNS                 0.55 0.40 0.67 0.57 0.52 0.68 0.53 0.75 0.41 0.63
V-SGNS               0.61 0.32 0.72 0.71 0.69 0.69 0.52 0.75 0.44 0.66
IV-SGNS(LINEAR)      0.50 0.40 0.60 0.59 0.60 0.66 0.41 0.72 0.37 0.54
PIXIE-concat         0.71 0.59 0.72 0.73 0.71 0.77 0.57 0.74 0.60 0.62
V-SGNS(*)            0.58 0.29 0.72 0.68 0.61 0.67 0.44 0.76 0.43 0.60
IV-SGNS(*)           0.50 0.40 0.61 0.58 0.58 0.65 0.40 0.72 0.37 0.54
PIXIE-concat(*)      0.60 0.43 0.72 0.65 0.60 0.70 0.56 0.76 0.45 0.63
"""


def _cell(text):
    return None if text == "-" else float(text)


def _rows(block):
    return {name: [_cell(c) for c in cells] for name, *cells in (line.split() for line in block.strip().splitlines())}


TABLE2 = {
    model: {b: {"all": cells[2 * i], "visual": cells[2 * i + 1]} for i, b in enumerate(BENCHMARKS)}
    for model, cells in _rows(_T2).items()
}
TABLE3 = {model: dict(zip(BENCHMARKS, cells)) for model, cells in _rows(_T3).items()}


def paper_benchmark(file_stem: str) -> str | None:
    """The paper's name for a benchmark file (EN-SIMLEX-999 -> SimLex, EN-WS-353-REL -> REL, ...), or None."""
    s = file_stem.upper().replace("_", "-")
    rules = (
        ("SEMSIM", "SEMSIM"),
        ("VISSIM", "VISSIM"),
        ("SIMLEX", "SimLex"),
        ("MTURK", "MTurk"),
        ("353-REL", "REL"),
        ("WS-REL", "REL"),
        ("353-SIM", "SIM"),
        ("WS-SIM", "SIM"),
        ("WS-353", "WORDSIM"),
        ("WS353", "WORDSIM"),
        ("WORDSIM", "WORDSIM"),
        ("MEN", "MEN"),
        ("RG-65", "EN-RG"),
        ("EN-RG", "EN-RG"),
        ("MC-30", "EN-MC"),
        ("EN-MC", "EN-MC"),
    )
    return next((name for key, name in rules if key in s), None)
