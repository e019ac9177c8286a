"""AWS error shapes.

Contract: `AwsError(status, type, message)` is raised by every handler; the JSON 1.1
front end renders it as `{"__type": type, "Message": message}` (the plain `__type`,
no namespace, as botocore's parser expects), with `x-amzn-ErrorType` set; the STS
front end renders the same exception as the query-protocol XML error document.
"""

import json
from xml.sax.saxutils import escape


class AwsError(Exception):
    def __init__(self, status, type_, message=None, headers=None):
        super().__init__(type_)
        self.status = status
        self.type = type_
        self.message = message
        self.headers = dict(headers or {})


def invalid_parameter(message):
    return AwsError(400, "InvalidParameterException", message)


def invalid_request(message):
    return AwsError(400, "InvalidRequestException", message)


def json_error_body(err):
    body = {"__type": err.type}
    if err.message is not None:
        body["Message"] = err.message
    return json.dumps(body).encode()


def xml_error_body(err, request_id):
    return ("<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
            "<Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error>"
            "<RequestId>%s</RequestId></ErrorResponse>"
            % (escape(err.type), escape(err.message or ""), request_id)).encode()
