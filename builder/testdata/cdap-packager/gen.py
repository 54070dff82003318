#!/usr/bin/env python3
"""Regenerate packages.json: the CDAP Hub Java packager's catalog entries for
every version folder of the shared CDAP corpus.

The rules are re-implemented from the Java packager's behaviour (see
README.md in this directory), not from market's Go code. Standard library
only.

    python3 builder/testdata/cdap-packager/gen.py [--corpus DIR] [--out FILE]
                                                 [--java-order]

By default the entries are sorted by package name, then by version newest
first (CDAP-style numeric comparison). --java-order instead emits them in the
order the latest Java packager wrote them (see README.md); the Go test looks
entries up by name and version, so it accepts either order.
"""

import argparse
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CORPUS = os.path.normpath(
    os.path.join(HERE, "..", "..", "..", "..", "shared", "corpus", "cdap-hub", "packages"))
DEFAULT_OUT = os.path.join(HERE, "packages.json")


class SpecError(Exception):
    """A spec the Java packager would have refused (its whole build failed)."""


class Literal(str):
    """A JSON number kept as its source text (Gson reads a number into a
    String field as the literal text)."""


# --- Gson 2.2.4 type adapters, as far as the spec fields need them ---------

def gson_string(v, field):
    # TypeAdapters.STRING: null -> null, boolean -> "true"/"false",
    # number -> its literal text, string -> itself; anything else fails.
    if v is None or isinstance(v, str):
        return None if v is None else str(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    raise SpecError("%s: expected a string, got %r" % (field, v))


def gson_boolean(v, field):
    # TypeAdapters.BOOLEAN: null -> null, string -> Boolean.parseBoolean
    # (case-insensitive "true"), boolean -> itself; a number fails.
    if v is None:
        return None
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and not isinstance(v, Literal):
        return v.lower() == "true"
    raise SpecError("%s: expected a boolean, got %r" % (field, v))


def gson_long(v, field):
    # Primitive long: absent or null leaves the field at 0. JsonReader.nextLong
    # accepts a number (or a quoted number) whose value is an exact integer.
    if v is None:
        return 0
    if isinstance(v, bool):
        raise SpecError("%s: expected a number, got %r" % (field, v))
    if isinstance(v, (str, int, float)):
        text = str(v)
        try:
            return int(text)
        except ValueError:
            pass
        try:
            f = float(text)
        except ValueError:
            raise SpecError("%s: expected a number, got %r" % (field, v))
        if f != f or f in (float("inf"), float("-inf")) or f != int(f):
            raise SpecError("%s: %r is not a long" % (field, v))
        return int(f)
    raise SpecError("%s: expected a number, got %r" % (field, v))


def gson_string_set(v, field):
    # Set<String> is deserialized into a LinkedHashSet: duplicates dropped,
    # first-seen order kept. A JSON null gives a null set.
    if v is None:
        return None
    if not isinstance(v, list):
        raise SpecError("%s: expected an array, got %r" % (field, v))
    out = []
    for item in v:
        s = gson_string(item, field + "[]")
        if s not in out:
            out.append(s)
    return out


def gson_license_info(v, field):
    # LicenseInfo {name, url}: Gson writes the non-null fields in that order.
    if v is None:
        return None
    if not isinstance(v, dict):
        raise SpecError("%s: expected an object, got %r" % (field, v))
    out = {}
    for k in ("name", "url"):
        s = gson_string(v.get(k), field + "." + k)
        if s is not None:
            out[k] = s
    return out


# --- PackageSpec -> PackageMeta ---------------------------------------------

def package_meta(name, version, spec):
    """The PackageMeta the Java packager built for one version folder, as an
    ordered dict in PackageMeta's field order with Gson's null omission."""
    if not isinstance(spec, dict):
        raise SpecError("spec is not a JSON object")

    # PackageSpec.validate(): every action needs a non-empty type; a missing
    # actions list throws a NullPointerException.
    actions = spec.get("actions")
    if not isinstance(actions, list):
        raise SpecError("actions: missing or not an array")
    for a in actions:
        if not isinstance(a, dict) or not gson_string(a.get("type"), "actions[].type"):
            raise SpecError("an action has no type")

    beta = gson_boolean(spec.get("beta"), "beta")
    preview = gson_boolean(spec.get("preview"), "preview")
    paid_link = gson_string(spec.get("paidLink"), "paidLink")
    categories = gson_string_set(spec.get("categories"), "categories")
    if categories is None:
        # Packager.build() calls addAll(meta.getCategories()): NPE.
        raise SpecError("categories: missing")

    fields = [
        ("name", name),
        ("version", version),
        ("description", gson_string(spec.get("description"), "description")),
        ("label", gson_string(spec.get("label"), "label")),
        ("author", gson_string(spec.get("author"), "author")),
        ("org", gson_string(spec.get("org"), "org")),
        ("cdapVersion", gson_string(spec.get("cdapVersion"), "cdapVersion")),
        ("license", gson_string(spec.get("license"), "license")),
        ("licenseInfo", gson_license_info(spec.get("licenseInfo"), "licenseInfo")),
        ("created", gson_long(spec.get("created"), "created")),
        # PackageSpec.getBeta(): (beta ?: false) || (preview ?: false).
        ("beta", bool(beta) or bool(preview)),
        ("categories", categories),
        # PackageSpec.getPaid(): !Strings.isNullOrEmpty(paidLink).
        ("paid", bool(paid_link)),
        ("paidLink", paid_link),
    ]
    # Gson without serializeNulls() leaves null fields out.
    return {k: v for k, v in fields if v is not None}


def load_spec(path):
    with open(path, "rb") as f:
        text = f.read().decode("utf-8")
    # Keep numbers as their literal text; gson_long/gson_string convert them.
    return json.loads(text, parse_int=Literal, parse_float=Literal)


# --- ordering ----------------------------------------------------------------

VERSION_RE = re.compile(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:[.\-](.*))?")


def cdap_version_key(v):
    """Ascending key: numeric major.minor.fix (a missing part is lowest), then
    a version with a suffix below the same version without, SNAPSHOT suffixes
    below other suffixes, other suffixes by string. Unparseable versions sort
    below every parseable one, by string."""
    m = VERSION_RE.fullmatch(v)
    if not m:
        return (0, (), v)
    nums = tuple(-1 if g is None else int(g) for g in m.group(1, 2, 3))
    suffix = m.group(4)
    if suffix is None:
        return (1, nums + (1, 0, ""), v)
    snapshot = suffix.lower().startswith("snapshot")
    return (1, nums + (0, 0 if snapshot else 1, suffix), v)


def fixture_order(entries):
    # name ascending, then version newest first
    entries = sorted(entries, key=lambda e: cdap_version_key(e["version"]), reverse=True)
    return sorted(entries, key=lambda e: e["name"])


def java_order(entries):
    # Packager.build(): package folders, then version folders, by
    # String.compareTo of their names; then a stable sort on label.toLowerCase().
    entries = sorted(entries, key=lambda e: (e["name"], e["version"]))
    return sorted(entries, key=lambda e: e["label"].lower())


# --- output ------------------------------------------------------------------

# Gson's default JsonWriter is HTML-safe: it escapes these characters even
# though JSON does not require it. They can only occur inside strings.
GSON_ESCAPES = {
    "<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "=": "\\u003d", "'": "\\u0027",
    "\u2028": "\\u2028", "\u2029": "\\u2029",
}


def gson_pretty(value):
    text = json.dumps(value, indent=2, ensure_ascii=False)
    return "".join(GSON_ESCAPES.get(c, c) for c in text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", default=DEFAULT_CORPUS, help="the packages directory")
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--java-order", action="store_true",
                    help="order entries as the latest Java packager did")
    args = ap.parse_args()

    entries, skipped = [], []
    for name in sorted(os.listdir(args.corpus)):
        pkg_dir = os.path.join(args.corpus, name)
        if not os.path.isdir(pkg_dir):
            continue
        for version in sorted(os.listdir(pkg_dir)):
            ver_dir = os.path.join(pkg_dir, version)
            if not os.path.isdir(ver_dir):
                continue
            spec_file = os.path.join(ver_dir, "spec.json")
            try:
                entries.append(package_meta(name, version, load_spec(spec_file)))
            except (OSError, ValueError, SpecError) as e:
                # The Java packager aborted the whole build here; the fixture
                # just leaves the folder out.
                skipped.append("%s/%s: %s" % (name, version, e))

    entries = java_order(entries) if args.java_order else fixture_order(entries)
    with open(args.out, "w", encoding="utf-8", newline="\n") as f:
        f.write(gson_pretty(entries) + "\n")
    for s in skipped:
        print("skipped " + s, file=sys.stderr)
    print("wrote %d entries to %s" % (len(entries), args.out), file=sys.stderr)


if __name__ == "__main__":
    main()
