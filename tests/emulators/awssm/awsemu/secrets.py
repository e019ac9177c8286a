"""Secrets Manager operations (JSON 1.1, target prefix `secretsmanager.`).

Contract (reference §2.2 and §9):
- Secrets are addressed by name or full ARN (`arn:aws:secretsmanager:{region}:{acct}:
  secret:{name}-{6 chars}`); unknown -> ResourceNotFoundException
  "Secrets Manager can't find the specified secret.".
- A version holds SecretString or SecretBinary (base64 on the wire, bytes inside) and
  staging labels. PutSecretValue/CreateSecret: ClientRequestToken (32-64 chars, a
  UUID when absent) becomes the VersionId; the same token with the same value is an
  idempotent success, with another value ResourceExistsException. Without
  VersionStages, AWSCURRENT moves to the new version and the old current becomes
  AWSPREVIOUS (the old AWSPREVIOUS loses it). A stage named explicitly moves from the
  version that held it.
- GetSecretValue: VersionId and/or VersionStage (default AWSCURRENT); both given must
  name one version (else InvalidRequestException); a stage no version holds ->
  ResourceNotFoundException "...can't find the specified secret value for staging
  label: X". A secret scheduled for deletion -> InvalidRequestException.
- ListSecrets: Filters (description, name, tag-key, tag-value, primary-region,
  owning-service, all): prefix matches, values ORed within a key and keys ANDed, "!"
  negates, tag-key and tag-value matched independently, description/all case
  insensitive. MaxResults 1-100 (default 100), opaque NextToken (a bad one ->
  InvalidNextTokenException), SortOrder asc|desc on created date (or SortBy name),
  entries carry SecretVersionsToStages. Planned deletions only with
  IncludePlannedDeletion.
- DescribeSecret carries VersionIdsToStages; TagResource/UntagResource edit tags.
- UpdateSecretVersionStage moves a label to MoveToVersionId and/or removes it from
  RemoveFromVersionId; a label attached elsewhere must be named in RemoveFromVersionId
  and RemoveFromVersionId must hold it (InvalidParameterException otherwise: this is
  the compare-and-set the plugin relies on). Moving AWSCURRENT gives the old version
  AWSPREVIOUS.
"""

import base64
import json
import random
import string
import uuid

from .errors import AwsError, invalid_parameter, invalid_request

NOT_FOUND = "Secrets Manager can't find the specified secret."


class Version:
    def __init__(self, vid, string_value, binary_value, created):
        self.id = vid
        self.string = string_value
        self.binary = binary_value
        self.stages = []
        self.created = created


class Secret:
    def __init__(self, name, arn, created, description, kms_key_id, tags):
        self.name = name
        self.arn = arn
        self.created = created
        self.changed = created
        self.description = description
        self.kms_key_id = kms_key_id
        self.tags = tags  # list of {"Key","Value"}, ordered
        self.versions = {}  # id -> Version, insertion ordered
        self.deleted = None

    def holder(self, stage):
        for v in self.versions.values():
            if stage in v.stages:
                return v
        return None

    def stages_map(self):
        return {v.id: list(v.stages) for v in self.versions.values() if v.stages}


class SecretsManager:
    def __init__(self, region, account, clock):
        self.region = region
        self.account = account
        self.clock = clock
        self.secrets = {}  # name -> Secret, creation ordered

    # -- helpers ---------------------------------------------------------------------------
    def _find(self, secret_id, allow_deleted=True):
        if not isinstance(secret_id, str) or not 1 <= len(secret_id) <= 2048:
            raise invalid_parameter("Invalid name. Must be a valid name containing "
                                    "alphanumeric characters, or any of the following: -/_+=.@!")
        s = self.secrets.get(secret_id)
        if s is None:
            for cand in self.secrets.values():
                if secret_id == cand.arn:
                    s = cand
                    break
        if s is None:
            raise AwsError(400, "ResourceNotFoundException", NOT_FOUND)
        if s.deleted is not None and not allow_deleted:
            raise invalid_request("You can't perform this operation on the secret because it "
                                  "was marked for deletion.")
        return s

    @staticmethod
    def _value(req):
        has_s, has_b = "SecretString" in req, "SecretBinary" in req
        if has_s and has_b:
            raise invalid_parameter("You can't specify both a binary secret value and a string "
                                    "secret value in the same secret.")
        if has_s:
            if not isinstance(req["SecretString"], str):
                raise AwsError(400, "SerializationException", "Start of structure or map found "
                               "where not expected.")
            return req["SecretString"], None
        if has_b:
            try:
                return None, base64.b64decode(req["SecretBinary"], validate=True)
            except (ValueError, TypeError):
                raise AwsError(400, "SerializationException",
                               "Base64 encoded blob is not valid.")
        return None, None

    @staticmethod
    def _token(req):
        tok = req.get("ClientRequestToken")
        if tok is None:
            return str(uuid.uuid4())
        if not isinstance(tok, str) or not 32 <= len(tok) <= 64:
            raise invalid_parameter("ClientRequestToken must be 32-64 characters long.")
        return tok

    def _add_version(self, s, req, default_stages):
        string_value, binary_value = self._value(req)
        tok = self._token(req)
        stages = req.get("VersionStages", default_stages)
        if not isinstance(stages, list) or not all(isinstance(x, str) for x in stages):
            raise invalid_parameter("VersionStages must be a list of strings.")
        old = s.versions.get(tok)
        if old is not None:
            if old.string == string_value and old.binary == binary_value:
                return old, False
            raise AwsError(400, "ResourceExistsException",
                           "You can't modify an existing version, you can only create a new "
                           "version.")
        v = Version(tok, string_value, binary_value, self.clock())
        for stage in stages:
            prev = s.holder(stage)
            if prev is not None:
                prev.stages.remove(stage)
                if stage == "AWSCURRENT":
                    other = s.holder("AWSPREVIOUS")
                    if other is not None:
                        other.stages.remove("AWSPREVIOUS")
                    prev.stages.append("AWSPREVIOUS")
            v.stages.append(stage)
        s.versions[tok] = v
        s.changed = v.created
        return v, True

    def _describe(self, s, versions_key):
        out = {"ARN": s.arn, "Name": s.name, "LastChangedDate": s.changed,
               "CreatedDate": s.created, versions_key: s.stages_map()}
        if s.description is not None:
            out["Description"] = s.description
        if s.kms_key_id is not None:
            out["KmsKeyId"] = s.kms_key_id
        if s.tags:
            out["Tags"] = [dict(t) for t in s.tags]
        if s.deleted is not None:
            out["DeletedDate"] = s.deleted
        return out

    @staticmethod
    def _tags(tags):
        if tags is None:
            return []
        if not isinstance(tags, list) or not all(
                isinstance(t, dict) and isinstance(t.get("Key"), str)
                and isinstance(t.get("Value", ""), str) for t in tags):
            raise invalid_parameter("Tags must be a list of {Key, Value}.")
        return [{"Key": t["Key"], "Value": t.get("Value", "")} for t in tags]

    # -- operations ------------------------------------------------------------------------
    def CreateSecret(self, req):
        name = req.get("Name")
        if not isinstance(name, str) or not 1 <= len(name) <= 512:
            raise invalid_parameter("Invalid name. Must be a valid name containing "
                                    "alphanumeric characters, or any of the following: -/_+=.@!")
        if name in self.secrets:
            raise AwsError(400, "ResourceExistsException",
                           "The operation failed because the secret %s already exists." % name)
        suffix = "".join(random.choice(string.ascii_letters + string.digits) for _ in range(6))
        arn = "arn:aws:secretsmanager:%s:%s:secret:%s-%s" % (self.region, self.account, name,
                                                             suffix)
        s = Secret(name, arn, self.clock(), req.get("Description"), req.get("KmsKeyId"),
                   self._tags(req.get("Tags")))
        out = {"ARN": arn, "Name": name}
        if "SecretString" in req or "SecretBinary" in req:
            v, _ = self._add_version(s, req, ["AWSCURRENT"])
            out["VersionId"] = v.id
        self.secrets[name] = s
        return out

    def GetSecretValue(self, req):
        s = self._find(req.get("SecretId"), allow_deleted=False)
        vid, stage = req.get("VersionId"), req.get("VersionStage")
        if vid is not None:
            v = s.versions.get(vid)
            if v is None:
                raise AwsError(400, "ResourceNotFoundException",
                               "Secrets Manager can't find the specified secret value for "
                               "VersionId: %s" % vid)
            if stage is not None and stage not in v.stages:
                raise invalid_request("You provided a VersionStage that is not associated to "
                                      "the provided VersionId.")
        else:
            stage = stage or "AWSCURRENT"
            v = s.holder(stage)
            if v is None:
                raise AwsError(400, "ResourceNotFoundException",
                               "Secrets Manager can't find the specified secret value for "
                               "staging label: %s" % stage)
        out = {"ARN": s.arn, "Name": s.name, "VersionId": v.id,
               "VersionStages": list(v.stages), "CreatedDate": v.created}
        if v.string is not None:
            out["SecretString"] = v.string
        if v.binary is not None:
            out["SecretBinary"] = base64.b64encode(v.binary).decode()
        return out

    def PutSecretValue(self, req):
        s = self._find(req.get("SecretId"), allow_deleted=False)
        if "SecretString" not in req and "SecretBinary" not in req:
            raise invalid_parameter("You must provide either SecretString or SecretBinary.")
        v, _ = self._add_version(s, req, ["AWSCURRENT"])
        return {"ARN": s.arn, "Name": s.name, "VersionId": v.id,
                "VersionStages": list(v.stages)}

    def DescribeSecret(self, req):
        return self._describe(self._find(req.get("SecretId")), "VersionIdsToStages")

    def TagResource(self, req):
        s = self._find(req.get("SecretId"))
        for t in self._tags(req.get("Tags")):
            for old in s.tags:
                if old["Key"] == t["Key"]:
                    old["Value"] = t["Value"]
                    break
            else:
                s.tags.append(t)
        return {}

    def UntagResource(self, req):
        s = self._find(req.get("SecretId"))
        keys = req.get("TagKeys")
        if not isinstance(keys, list):
            raise invalid_parameter("TagKeys must be a list of strings.")
        s.tags = [t for t in s.tags if t["Key"] not in keys]
        return {}

    def DeleteSecret(self, req):
        s = self._find(req.get("SecretId"))
        s.deleted = self.clock()
        return {"ARN": s.arn, "Name": s.name, "DeletionDate": s.deleted + 30 * 86400}

    def UpdateSecretVersionStage(self, req):
        s = self._find(req.get("SecretId"), allow_deleted=False)
        stage, to, frm = req.get("VersionStage"), req.get("MoveToVersionId"), req.get("RemoveFromVersionId")
        if not isinstance(stage, str) or not 1 <= len(stage) <= 256:
            raise invalid_parameter("VersionStage is required.")
        for vid in (to, frm):
            if vid is not None and vid not in s.versions:
                raise AwsError(400, "ResourceNotFoundException",
                               "Secrets Manager can't find the specified secret value for "
                               "VersionId: %s" % vid)
        holder = s.holder(stage)
        if frm is not None and (holder is None or holder.id != frm):
            raise invalid_parameter("The staging label %s is not attached to version %s."
                                    % (stage, frm))
        if to is not None and holder is not None and holder.id != to and frm != holder.id:
            raise invalid_parameter("The staging label %s is currently attached to version %s, "
                                    "so you must explicitly reference that version in "
                                    "RemoveFromVersionId." % (stage, holder.id))
        if to is None and frm is None:
            raise invalid_parameter("You must specify MoveToVersionId or RemoveFromVersionId.")
        if holder is not None and (to is None or holder.id != to):
            holder.stages.remove(stage)
            if stage == "AWSCURRENT" and to is not None:
                other = s.holder("AWSPREVIOUS")
                if other is not None:
                    other.stages.remove("AWSPREVIOUS")
                holder.stages.append("AWSPREVIOUS")
        if to is not None and stage not in s.versions[to].stages:
            if stage == "AWSCURRENT" and "AWSPREVIOUS" in s.versions[to].stages:
                s.versions[to].stages.remove("AWSPREVIOUS")
            s.versions[to].stages.append(stage)
        s.changed = self.clock()
        return {"ARN": s.arn, "Name": s.name}

    def ListSecretVersionIds(self, req):
        s = self._find(req.get("SecretId"))
        return {"ARN": s.arn, "Name": s.name,
                "Versions": [{"VersionId": v.id, "VersionStages": list(v.stages),
                              "CreatedDate": v.created} for v in s.versions.values()
                             if v.stages or req.get("IncludeDeprecated")]}

    def ListSecrets(self, req):
        max_results = req.get("MaxResults", 100)
        if not isinstance(max_results, int) or isinstance(max_results, bool) or \
                not 1 <= max_results <= 100:
            raise invalid_parameter("MaxResults must be between 1 and 100.")
        filters = req.get("Filters", [])
        checks = [_parse_filter(f) for f in filters] if isinstance(filters, list) else None
        if checks is None:
            raise invalid_parameter("Filters must be a list.")
        items = [s for s in self.secrets.values()
                 if (s.deleted is None or req.get("IncludePlannedDeletion"))
                 and all(check(s) for check in checks)]
        sort_by = req.get("SortBy", "created-date")
        if sort_by == "name":
            items.sort(key=lambda s: s.name)
        if req.get("SortOrder", "asc") == "desc":
            items.reverse()
        start = 0
        token = req.get("NextToken")
        if token is not None:
            try:
                data = json.loads(base64.b64decode(token, validate=True))
                start = int(data["offset"])
                if data.get("n") != len(filters) or start < 0:
                    raise ValueError
            except (ValueError, KeyError, TypeError):
                raise AwsError(400, "InvalidNextTokenException",
                               "The NextToken value is invalid.")
        page = items[start:start + max_results]
        out = {"SecretList": [self._describe(s, "SecretVersionsToStages") for s in page]}
        if start + max_results < len(items):
            out["NextToken"] = base64.b64encode(json.dumps(
                {"offset": start + max_results, "n": len(filters)}).encode()).decode()
        return out


FILTER_KEYS = ("description", "name", "tag-key", "tag-value", "primary-region",
               "owning-service", "all")


def _parse_filter(f):
    if not isinstance(f, dict) or f.get("Key") not in FILTER_KEYS or \
            not isinstance(f.get("Values"), list) or not f["Values"]:
        raise invalid_parameter("Filters: Key must be one of %s with a non-empty Values list."
                                % ", ".join(FILTER_KEYS))
    key, values = f["Key"], f["Values"]

    def fields(s):
        if key == "name":
            return [s.name]
        if key == "description":
            return [s.description or ""]
        if key == "tag-key":
            return [t["Key"] for t in s.tags]
        if key == "tag-value":
            return [t["Value"] for t in s.tags]
        if key in ("primary-region", "owning-service"):
            return []
        return [s.name, s.description or ""] + [t["Key"] for t in s.tags] + \
            [t["Value"] for t in s.tags]

    insensitive = key in ("description", "all")

    def one(s, value):
        neg = value.startswith("!")
        v = value[1:] if neg else value
        cands = fields(s)
        if insensitive:
            v, cands = v.lower(), [c.lower() for c in cands]
        hit = any(c.startswith(v) for c in cands)
        return not hit if neg else hit

    return lambda s: any(one(s, v) for v in values)
