"""Kubernetes quantities read exactly, in Python and in the chart's Go templates alike.

The quantityLessOrEqual rules compare a request with its limit the way the API server will: the text
(or the number, as the chart's gce.scalarString writes it: ``1.0000005e+06`` for a float64 of a million
and a half) is read as a decimal with an optional sign, SI suffix (n u m k M G T P E), binary suffix
(Ki ... Ei) or decimal exponent; rounded up to whole nano-units and capped at 2^63-1, as
k8s.io/apimachinery's ParseQuantity does. No float is involved on either side: Python works on the
digits, and the template does the same on digit strings (a multiplication by 1024 runs over 9-digit
chunks in int64), so 700m equals "0.7" and 3000000Ki exceeds 2Gi in both.

``nano`` is the Python reading; ``TEMPLATE`` its twin, written into templates/_rules.tpl by
`gce-values schema build`. Both give None / "" for what is not a quantity (null, a bool, a map,
text in another grammar): the rule then does not apply, and the schema's pattern reports the text.
"""

from __future__ import annotations

import functools
import re

from gce_values.helmyaml.scalars import as_template_text
from gce_values.records import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

# A quantity: a sign, digits with at most one dot (at least one digit), a suffix. Exponents are limited
# to three digits (1e999 is already far past the cap) so that no reading ever writes out huge numbers.
SUFFIX = "n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?[0-9]{1,3}"
QUANTITY = f"^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)({SUFFIX})?$"
# The same text cut into sign, whole digits, fraction digits and suffix (applied only after QUANTITY).
_PARTS = f"^([+-]?)([0-9]*)[.]?([0-9]*)({SUFFIX})?$"
_DECIMAL = {"": 0, "n": -9, "u": -6, "m": -3, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
# Largest quantity Kubernetes holds, in nano-units (2^63-1 whole units), and its number of digits.
CAP = (2**63 - 1) * 10**9
_WIDTH = len(str(CAP))
_WHOLE_DIGITS = len(str(2**63 - 1))


@functools.lru_cache(maxsize=4096)
def nano(text: str) -> int | None:
    """The quantity ``text`` in nano-units (signed), as Kubernetes stores it; None if not a quantity.

    Cached: every conf has the same few quantities (512Mi, 2Gi, 100m), and a batch of confs repeats them.
    """
    if not re.fullmatch(QUANTITY, text):
        return None
    parts = re.fullmatch(_PARTS, text)
    assert parts is not None
    sign, whole, fraction, suffix = parts.group(1), parts.group(2), parts.group(3), parts.group(4) or ""
    digits = (whole + fraction).lstrip("0")
    exponent = -len(fraction)
    if suffix in _BINARY:
        for _ in range(_BINARY[suffix]):
            digits = times(digits, 1024).lstrip("0")
    elif suffix in _DECIMAL:
        exponent += _DECIMAL[suffix]
    else:
        exponent += int(suffix[1:])
    if not digits:
        return 0
    if len(digits) + exponent > _WHOLE_DIGITS:
        amount = CAP
    elif exponent + 9 >= 0:
        amount = min(int(digits) * 10 ** (exponent + 9), CAP)
    else:
        cut = -(exponent + 9)
        kept, dropped = digits[:-cut] if cut < len(digits) else "", digits[-cut:]
        amount = min(int(kept or "0") + (1 if dropped.strip("0") else 0), CAP)
    return -amount if sign == "-" else amount


def times(digits: str, factor: int, carry: int = 0) -> str:
    """``digits`` (a decimal string) times ``factor`` plus ``carry``, nine digits at a time: linear in
    the length, and the same steps as the template's gce.digitsTimes (no conversion of long text to int)."""
    padded = "0" * (-len(digits) % 9) + digits
    chunks = []
    for end in range(len(padded), 0, -9):
        total = int(padded[end - 9 : end]) * factor + carry
        chunks.append(f"{total % 1_000_000_000:09d}")
        carry = total // 1_000_000_000
    return str(carry) + "".join(reversed(chunks))


def reading(value: Any) -> int | None:
    """``nano`` of a conf value as the template sees it: text, or a number as gce.scalarString prints it."""

    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        return nano(value)
    if isinstance(value, int):
        return nano(str(value))
    if isinstance(value, float):
        return nano(as_template_text(value))
    return None


# gce.quantity: "" or a sign and _WIDTH digits of nano-units, so that two readings of one sign compare
# as strings. gce.quantityAbove (list low high): "true" when both are quantities and low > high.
# gce.digitsTimes (list digits factor): the digit string times a small integer, 9 digits at a time.
TEMPLATE = (
    """{{/* gce.quantity reads a Kubernetes quantity exactly (gce_values.checks.quantities). */}}
{{- define "gce.quantity" -}}
{{- $text := include "gce.scalarString" . -}}
{{- if regexMatch "QUANTITY" $text -}}
{{- $sign := regexReplaceAll "PARTS" $text "${1}" -}}
{{- $fraction := regexReplaceAll "PARTS" $text "${3}" -}}
{{- $suffix := regexReplaceAll "PARTS" $text "${4}" -}}
{{- $digits := regexReplaceAll "^0+" (printf "%s%s" (regexReplaceAll "PARTS" $text "${2}") $fraction) "" -}}
{{- $exponent := sub 0 (len $fraction) -}}
{{- $binary := dict BINARY -}}
{{- $decimal := dict DECIMAL -}}
{{- if hasKey $binary $suffix -}}
{{- range until (int (get $binary $suffix)) -}}
{{- $digits = regexReplaceAll "^0+" (include "gce.digitsTimes" (list $digits 1024 0)) "" -}}
{{- end -}}
{{- else if hasKey $decimal $suffix -}}
{{- $exponent = add $exponent (get $decimal $suffix) -}}
{{- else -}}
{{- $exponent = add $exponent (atoi (substr 1 -1 $suffix)) -}}
{{- end -}}
{{- $amount := "" -}}
{{- if eq $digits "" -}}
{{- $amount = "0" -}}
{{- else if gt (add (len $digits) $exponent) WHOLE -}}
{{- $amount = "CAP" -}}
{{- else if ge (add $exponent 9) 0 -}}
{{- $amount = printf "%s%s" $digits (repeat (int (add $exponent 9)) "0") -}}
{{- else -}}
{{- $cut := int (sub 0 (add $exponent 9)) -}}
{{- $kept := "0" -}}
{{- $dropped := $digits -}}
{{- if lt $cut (len $digits) -}}
{{- $kept = substr 0 (int (sub (len $digits) $cut)) $digits -}}
{{- $dropped = substr (int (sub (len $digits) $cut)) -1 $digits -}}
{{- end -}}
{{- $rounded := include "gce.digitsTimes" (list $kept 1 (ternary 1 0 (regexMatch "[1-9]" $dropped))) -}}
{{- $amount = regexReplaceAll "^0+" $rounded "" -}}
{{- end -}}
{{- $amount = printf "%s%s" (repeat (int (sub WIDTH (min WIDTH (len $amount)))) "0") $amount -}}
{{- if or (gt (len $amount) WIDTH) (gt $amount "CAP") -}}
{{- $amount = "CAP" -}}
{{- end -}}
{{- printf "%s%s" (ternary "-" "+" (and (eq $sign "-") (regexMatch "[1-9]" $amount))) $amount -}}
{{- end -}}
{{- end }}

{{- define "gce.quantityAbove" -}}
{{- $low := include "gce.quantity" (index . 0) -}}
{{- $high := include "gce.quantity" (index . 1) -}}
{{- if and $low $high -}}
{{- $lowSign := substr 0 1 $low -}}
{{- $highSign := substr 0 1 $high -}}
{{- if ne $lowSign $highSign -}}
{{- eq $lowSign "+" -}}
{{- else if eq $lowSign "+" -}}
{{- gt $low $high -}}
{{- else -}}
{{- lt $low $high -}}
{{- end -}}
{{- end -}}
{{- end }}

{{- define "gce.digitsTimes" -}}
{{- $digits := index . 0 -}}
{{- $factor := index . 1 -}}
{{- $carry := index . 2 -}}
{{- $padded := printf "%s%s" (repeat (int (mod (sub 9 (mod (len $digits) 9)) 9)) "0") $digits -}}
{{- $out := "" -}}
{{- range reverse (regexFindAll "[0-9]{9}" $padded -1) -}}
{{- $sum := add (mul (atoi .) $factor) $carry -}}
{{- $out = printf "%09d%s" (mod $sum 1000000000) $out -}}
{{- $carry = div $sum 1000000000 -}}
{{- end -}}
{{- printf "%d%s" $carry $out -}}
{{- end }}
""".replace("PARTS", _PARTS.replace("\\", "\\\\"))
    .replace("QUANTITY", QUANTITY.replace("\\", "\\\\"))
    .replace("BINARY", " ".join(f'"{k}" {v}' for k, v in _BINARY.items()))
    .replace("DECIMAL", " ".join(f'"{k}" {v}' for k, v in _DECIMAL.items()))
    .replace("CAP", str(CAP))
    .replace("WHOLE", str(_WHOLE_DIGITS))
    .replace("WIDTH", str(_WIDTH))
)
