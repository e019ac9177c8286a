"""Block Kit checks the emulator applies to every message (webhook and Web API).

Contract: `block_errors(blocks)` returns a list of human-readable problems (empty when
the blocks pass). It enforces what Slack enforces for the block types a notifier
uses, with Slack's limits: at most 50 blocks; known block types only; block_id at most
255 characters; text objects are {"type": "plain_text"|"mrkdwn", "text": str} (emoji
only on plain_text); header: plain_text of at most 150 characters; section: text of
at most 3000 characters and/or at most 10 fields of at most 2000 characters, one of the
two required; context: 1 to 10 elements (text objects or images); actions: 1 to 25
elements; button: plain_text text of at most 75 characters, action_id at most 255,
url at most 3000, style primary|danger; divider: nothing else. Unknown keys in a block
are refused, as Slack does ("invalid additional property").
"""

BLOCK_TYPES = {"header", "section", "context", "actions", "divider", "image", "rich_text",
               "input", "file", "video"}
MAX_BLOCKS = 50


def _text_obj(obj, where, limit, errors, plain_only=False):
    if not isinstance(obj, dict):
        errors.append("%s must be a text object" % where)
        return
    kind = obj.get("type")
    allowed = {"plain_text"} if plain_only else {"plain_text", "mrkdwn"}
    if kind not in allowed:
        errors.append("%s.type must be one of %s" % (where, sorted(allowed)))
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        errors.append("%s.text must be a non-empty string" % where)
    elif len(text) > limit:
        errors.append("%s.text must be at most %d characters" % (where, limit))
    extra = set(obj) - {"type", "text", "emoji", "verbatim"}
    if extra:
        errors.append("%s has invalid additional properties %s" % (where, sorted(extra)))
    if "emoji" in obj and kind != "plain_text":
        errors.append("%s.emoji is allowed only on plain_text" % where)


def _button(el, where, errors):
    extra = set(el) - {"type", "text", "action_id", "url", "value", "style", "confirm",
                       "accessibility_label"}
    if extra:
        errors.append("%s has invalid additional properties %s" % (where, sorted(extra)))
    _text_obj(el.get("text"), where + ".text", 75, errors, plain_only=True)
    if len(str(el.get("action_id", ""))) > 255:
        errors.append("%s.action_id must be at most 255 characters" % where)
    url = el.get("url")
    if url is not None and (not isinstance(url, str) or len(url) > 3000 or
                            not url.startswith(("http://", "https://"))):
        errors.append("%s.url must be an http(s) URL of at most 3000 characters" % where)
    if "style" in el and el["style"] not in ("primary", "danger"):
        errors.append("%s.style must be primary or danger" % where)


def _block(b, i, errors):
    where = "blocks[%d]" % i
    if not isinstance(b, dict):
        errors.append("%s must be an object" % where)
        return
    kind = b.get("type")
    if kind not in BLOCK_TYPES:
        errors.append("%s.type %r is not a block type" % (where, kind))
        return
    if len(str(b.get("block_id", ""))) > 255:
        errors.append("%s.block_id must be at most 255 characters" % where)
    allowed = {"type", "block_id"}
    if kind == "header":
        allowed |= {"text"}
        _text_obj(b.get("text"), where + ".text", 150, errors, plain_only=True)
    elif kind == "section":
        allowed |= {"text", "fields", "accessory", "expand"}
        if "text" not in b and "fields" not in b:
            errors.append("%s needs text or fields" % where)
        if "text" in b:
            _text_obj(b["text"], where + ".text", 3000, errors)
        if "fields" in b:
            fields = b["fields"]
            if not isinstance(fields, list) or not 1 <= len(fields) <= 10:
                errors.append("%s.fields must hold 1 to 10 items" % where)
            else:
                for j, f in enumerate(fields):
                    _text_obj(f, "%s.fields[%d]" % (where, j), 2000, errors)
    elif kind == "context":
        allowed |= {"elements"}
        els = b.get("elements")
        if not isinstance(els, list) or not 1 <= len(els) <= 10:
            errors.append("%s.elements must hold 1 to 10 items" % where)
        else:
            for j, el in enumerate(els):
                if isinstance(el, dict) and el.get("type") == "image":
                    continue
                _text_obj(el, "%s.elements[%d]" % (where, j), 3000, errors)
    elif kind == "actions":
        allowed |= {"elements"}
        els = b.get("elements")
        if not isinstance(els, list) or not 1 <= len(els) <= 25:
            errors.append("%s.elements must hold 1 to 25 items" % where)
        else:
            for j, el in enumerate(els):
                if not isinstance(el, dict) or el.get("type") != "button":
                    errors.append("%s.elements[%d] must be a button (the emulator knows no "
                                  "other element)" % (where, j))
                else:
                    _button(el, "%s.elements[%d]" % (where, j), errors)
    elif kind == "divider":
        pass
    else:
        return  # other block types are accepted as they come
    extra = set(b) - allowed
    if extra:
        errors.append("%s has invalid additional properties %s" % (where, sorted(extra)))


def block_errors(blocks):
    if not isinstance(blocks, list):
        return ["blocks must be an array"]
    errors = []
    if len(blocks) > MAX_BLOCKS:
        errors.append("no more than %d items allowed [json-pointer:/blocks]" % MAX_BLOCKS)
    for i, b in enumerate(blocks):
        _block(b, i, errors)
    return errors
