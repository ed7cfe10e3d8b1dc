"""SageMaker's AddTags, ListTags and DeleteTags, on any resource's ARN."""

from console.core.tags import resource_tags_add, resource_tags_delete, resource_tags_list
from console.sagemaker.listing import decode_token, encode_token, page_response
from console.sagemaker.operations import operation

DEFAULT_MAX_RESULTS = 50  # ListTags' own default (and its smallest MaxResults)


@operation("AddTags")
def add_tags(*, user, params: dict) -> dict:
    tags = resource_tags_add(user=user, resource_arn=params["ResourceArn"], tags=params["Tags"])
    return {"Tags": tags}


@operation("ListTags")
def list_tags(*, user, params: dict) -> dict:
    tags = resource_tags_list(user=user, resource_arn=params["ResourceArn"])
    offset = decode_token(params.get("NextToken"))
    limit = params.get("MaxResults", DEFAULT_MAX_RESULTS)
    rows = list(tags.values_list("key", "value")[offset : offset + limit + 1])
    token = encode_token(offset + limit) if len(rows) > limit else None
    items = [{"Key": key, "Value": value} for key, value in rows[:limit]]
    return page_response("Tags", items, token)


@operation("DeleteTags")
def delete_tags(*, user, params: dict) -> dict:
    resource_tags_delete(user=user, resource_arn=params["ResourceArn"], keys=params["TagKeys"])
    return {}
