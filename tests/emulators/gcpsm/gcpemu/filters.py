"""The list `filter` language (the subset Secret Manager documents; AIP-160 precedence).

Contract: `compile_filter(text, fields)` -> predicate(resource_view) or GcpError 400
INVALID_ARGUMENT. `resource_view` is a dict: {"name": str, "labels": {k: v},
"create_time": RFC 3339 str, "state": str}. Grammar:
    expr    := factor { [AND] factor }         (juxtaposition is AND)
    factor  := term { OR term }                (OR binds tighter than AND, as in AIP-160)
    term    := [NOT | -] ( "(" expr ")" | restriction | value )
    restriction := field op value      op: = != < <= > >= :
Fields: name, labels.<key>, create_time, state (versions only). `:` is "has": a
substring for name and label values, `labels.k:*` tests presence. A bare value matches
when it is a substring of the name or equals a label key or value. Values may be quoted.
Unknown fields and malformed text are refused, as the service does.
"""

import re

from .errors import invalid

_TOKEN = re.compile(r'\s*(?:(?P<lp>\()|(?P<rp>\))|(?P<kw>AND|OR|NOT)(?=[\s()]|$)|'
                    r'(?P<neg>-)?(?P<field>[A-Za-z_][A-Za-z0-9_.\-]*)\s*'
                    r'(?P<op><=|>=|!=|=|<|>|:)\s*(?P<val>"(?:[^"\\]|\\.)*"|[^\s()]+)|'
                    r'(?P<bare>"(?:[^"\\]|\\.)*"|[^\s()]+))')


def _unquote(v):
    if len(v) >= 2 and v[0] == '"' and v[-1] == '"':
        return re.sub(r"\\(.)", r"\1", v[1:-1])
    return v


def _tokens(text):
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise invalid("Invalid filter: cannot parse %r" % text[pos:pos + 20])
        pos = m.end()
        out.append(m)
    return out


def _restriction(field, op, value, fields):
    value = _unquote(value)
    if field == "name" and "name" in fields:
        def get(r): return r["name"]
    elif field.startswith("labels.") and "labels" in fields and len(field) > 7:
        key = field[7:]
        if op == ":" and value == "*":
            return lambda r: key in r["labels"]

        def get(r): return r["labels"].get(key)
    elif field in ("create_time", "createTime") and "create_time" in fields:
        def get(r): return r["create_time"]
    elif field == "state" and "state" in fields:
        def get(r): return r["state"]
        value = value.upper()
    else:
        raise invalid("Invalid filter: unknown field %r" % field)

    def pred(r):
        have = get(r)
        if have is None:
            return False
        if op == ":":
            return value in have
        return {"=": have == value, "!=": have != value, "<": have < value,
                "<=": have <= value, ">": have > value, ">=": have >= value}[op]
    return pred


class _Parser:
    def __init__(self, toks, fields):
        self.toks, self.i, self.fields = toks, 0, fields

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else None

    def expr(self, inner=False):
        preds = [self.factor()]
        while True:
            t = self.peek()
            if t is None or t.group("rp"):
                break
            if t.group("kw") == "AND":
                self.i += 1
            preds.append(self.factor())
        if not inner and self.peek() is not None:
            raise invalid("Invalid filter: unbalanced ')'")
        return lambda r: all(p(r) for p in preds)

    def factor(self):
        preds = [self.term()]
        while self.peek() is not None and self.peek().group("kw") == "OR":
            self.i += 1
            preds.append(self.term())
        return lambda r: any(p(r) for p in preds)

    def term(self):
        t = self.peek()
        if t is None:
            raise invalid("Invalid filter: expression expected")
        self.i += 1
        if t.group("kw") == "NOT":
            p = self.term()
            return lambda r: not p(r)
        if t.group("kw"):
            raise invalid("Invalid filter: unexpected %s" % t.group("kw"))
        if t.group("lp"):
            p = self.expr(inner=True)
            end = self.peek()
            if end is None or not end.group("rp"):
                raise invalid("Invalid filter: missing ')'")
            self.i += 1
            return p
        if t.group("rp"):
            raise invalid("Invalid filter: unexpected ')'")
        if t.group("field"):
            p = _restriction(t.group("field"), t.group("op"), t.group("val"), self.fields)
            return (lambda r: not p(r)) if t.group("neg") else p
        bare = t.group("bare")
        neg = bare.startswith("-") and len(bare) > 1
        word = _unquote(bare[1:] if neg else bare)

        def p(r):
            return word in r["name"] or word in r["labels"] or word in r["labels"].values()
        return (lambda r: not p(r)) if neg else p


def compile_filter(text, fields):
    if text is None or text.strip() == "":
        return lambda r: True
    if len(text) > 4096:
        raise invalid("Invalid filter: longer than 4096 characters")
    return _Parser(_tokens(text), fields).expr()
