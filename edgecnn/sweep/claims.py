"""The statements CNN histories make about parameter efficiency, measured on a sweep's own networks.

The usual accounts repeat three comparisons made on ImageNet at 224x224: SqueezeNet reaches AlexNet's accuracy
with about 50x fewer parameters (Iandola et al. 2016, arXiv:1602.07360); Inception (GoogLeNet) reaches VGG's
accuracy with about a tenth of the parameters (Szegedy et al. 2014, arXiv:1409.4842; at 224 the counts are nearer
a twentieth); MobileNet is larger than SqueezeNet but more accurate (Howard et al. 2017, arXiv:1704.04861). This
module checks each on the trained networks of one sweep, with the same data, epochs and recipe on both sides,
and states the measured verdict whatever it is.
"""

from __future__ import annotations

from fnmatch import fnmatch
from typing import Any, NamedTuple

#: "Reaches" allows the smaller network to be this much (a fraction) below the larger one.
ACCURACY_TOLERANCE = 0.005


class Claim(NamedTuple):
    """One statement.

    Attributes:
        text: The statement as the histories make it.
        first: Architecture patterns (fnmatch) of the network the statement is about.
        second: Architecture patterns of the network it is compared with.
        kind: ``"fewer"``: ``first`` reaches ``second``'s accuracy with about ``factor`` times fewer parameters;
            ``"larger_and_better"``: ``first`` has more parameters and a higher accuracy than ``second``.
        factor: The claimed parameter ratio (``"fewer"`` only).
    """

    text: str
    first: tuple[str, ...]
    second: tuple[str, ...]
    kind: str
    factor: float = 1.0


CLAIMS: tuple[Claim, ...] = (
    Claim(
        "SqueezeNet reaches AlexNet's accuracy with about 50x fewer parameters",
        ("squeezenet*",),
        ("alexnet*",),
        "fewer",
        50.0,
    ),
    Claim(
        "Inception reaches VGG's accuracy with about a tenth of the parameters (at 224 nearer a twentieth)",
        ("googlenet*", "inception*"),
        ("vgg*",),
        "fewer",
        10.0,
    ),
    Claim(
        "MobileNet is larger than SqueezeNet but more accurate", ("mobilenet*",), ("squeezenet*",), "larger_and_better"
    ),
)


def trained_networks(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One record per trained network ``(arch, alpha, size)`` with its parameters and float Keras top-1.

    Every scheme row of a network carries the same ``params`` and ``keras_top1``; the first row that has both is
    taken.
    """
    found: dict[tuple, dict[str, Any]] = {}
    for row in rows:
        key = (row["arch"], float(row["alpha"]), int(row["size"]))
        if key in found or row.get("params") is None or row.get("keras_top1") is None:
            continue
        found[key] = {
            "arch": key[0],
            "alpha": key[1],
            "size": key[2],
            "params": row["params"],
            "top1": row["keras_top1"],
        }
    return list(found.values())


def _matches(arch: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch(arch, pattern) for pattern in patterns)


def _pairs(first: list[dict], second: list[dict]) -> tuple[list[tuple[dict, dict]], bool]:
    """Pairs at the same width and input size; without any, each side's most accurate network (flag False)."""
    same = [(a, b) for a in first for b in second if (a["alpha"], a["size"]) == (b["alpha"], b["size"])]
    if same:
        return same, True
    best = max(first, key=lambda n: n["top1"]), max(second, key=lambda n: n["top1"])
    return [best], False


def measure(claim: Claim, networks: list[dict[str, Any]]) -> dict[str, Any]:
    """The claim checked on ``networks`` (from :func:`trained_networks`).

    Returns:
        ``claim`` (its text), ``measured`` (False with ``missing`` naming the absent side), ``same_setting``
        (whether the pairs share width and input size) and ``comparisons``: per pair the two networks,
        ``ratio`` (second's parameters / first's), ``difference`` (first's top-1 - second's) and ``holds``.
    """
    first = [n for n in networks if _matches(n["arch"], claim.first)]
    second = [n for n in networks if _matches(n["arch"], claim.second)]
    result: dict[str, Any] = {"claim": claim.text, "measured": bool(first and second), "comparisons": []}
    if not result["measured"]:
        result["missing"] = " or ".join(claim.first if not first else claim.second)
        return result
    pairs, result["same_setting"] = _pairs(first, second)
    for a, b in pairs:
        ratio = b["params"] / a["params"]
        difference = a["top1"] - b["top1"]
        if claim.kind == "fewer":
            holds = difference >= -ACCURACY_TOLERANCE and ratio >= claim.factor / 2
        else:
            holds = ratio < 1 and difference > 0
        result["comparisons"].append(
            {"first": a, "second": b, "ratio": ratio, "difference": difference, "holds": holds}
        )
    return result


def render_claims(rows: list[dict[str, Any]], config: dict[str, Any]) -> list[str]:
    """The report's claims section (Markdown lines)."""
    networks = trained_networks(rows)
    budget = _budget(config)
    lines = [
        "## Claims of the CNN histories, measured here",
        "",
        "Each statement was made on ImageNet at 224x224 with its paper's training; here both sides are this "
        f"sweep's networks, trained alike ({budget}). Accuracy is the float Keras model's top-1 on the test split; "
        f'"reaches" allows {100 * ACCURACY_TOLERANCE:g} points; "about Nx fewer" is met from N/2 on.',
        "",
    ]
    for claim in CLAIMS:
        result = measure(claim, networks)
        lines.append(f"- **{claim.text}.**")
        if not result["measured"]:
            lines.append(f"  Not measured: this sweep has no {result['missing']} network.")
            continue
        if not result["same_setting"]:
            lines.append("  No width and input size in common: each side's most accurate network is compared.")
        for item in result["comparisons"]:
            a, b = item["first"], item["second"]
            lines.append(
                f"  - {_network(a, budget)} vs {_network(b, budget)}: {_ratio_text(claim, item['ratio'])}, "
                f"{100 * item['difference']:+.2f} points -> **{'holds' if item['holds'] else 'does not hold'}**"
            )
    lines.append("")
    return lines


def _network(n: dict[str, Any], budget: str) -> str:
    return (
        f"{n['arch']} (width {n['alpha']:g}, {n['size']} px, {budget}): "
        f"{100 * n['top1']:.2f}%, {n['params'] / 1e6:.3g}M parameters"
    )


def _ratio_text(claim: Claim, ratio: float) -> str:
    if claim.kind == "fewer":
        return f"{ratio:.3g}x fewer parameters (claimed: about {claim.factor:g}x)"
    return f"{1 / ratio:.3g}x the parameters"


def _budget(config: dict[str, Any]) -> str:
    images = f"at most {config['max_samples']:,} images a split" if config.get("max_samples") else "all training images"
    return f"{config.get('epochs')} epoch(s), {images}"
