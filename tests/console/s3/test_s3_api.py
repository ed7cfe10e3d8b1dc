"""The S3 API with boto3 against a live server: every operation, S3's errors, path tricks."""

from __future__ import annotations

import hashlib
import io

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.django_db(transaction=True)

MIB = 1024 * 1024


def error_code(info: pytest.ExceptionInfo) -> str:
    return info.value.response["Error"]["Code"]


def test_buckets_create_list_head_locate_delete(s3, bucket_name):
    s3.create_bucket(Bucket=bucket_name)
    assert bucket_name in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert s3.head_bucket(Bucket=bucket_name)["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert s3.get_bucket_location(Bucket=bucket_name)["LocationConstraint"] is None
    with pytest.raises(ClientError) as again:
        s3.create_bucket(Bucket=bucket_name)
    assert error_code(again) == "BucketAlreadyOwnedByYou"
    s3.put_object(Bucket=bucket_name, Key="x", Body=b"1")
    with pytest.raises(ClientError) as full:
        s3.delete_bucket(Bucket=bucket_name)
    assert error_code(full) == "BucketNotEmpty"
    s3.delete_object(Bucket=bucket_name, Key="x")
    s3.delete_bucket(Bucket=bucket_name)
    with pytest.raises(ClientError) as gone:
        s3.head_bucket(Bucket=bucket_name)
    assert error_code(gone) == "404"
    with pytest.raises(ClientError) as missing:
        s3.list_objects_v2(Bucket=bucket_name)
    assert error_code(missing) == "NoSuchBucket"


def test_bucket_name_and_region_are_checked(s3):
    with pytest.raises(ClientError) as bad:
        s3.create_bucket(Bucket="Bad_Name")
    assert error_code(bad) == "InvalidBucketName"
    with pytest.raises(ClientError) as region:
        s3.create_bucket(
            Bucket="elsewhere", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
    assert error_code(region) == "IllegalLocationConstraintException"


def test_put_get_head_delete_object(s3, bucket):
    body = b"a,b\n1,2\n"
    put = s3.put_object(Bucket=bucket, Key="data/train.csv", Body=body)
    assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    got = s3.get_object(Bucket=bucket, Key="data/train.csv")
    assert got["Body"].read() == body
    assert got["ETag"] == put["ETag"] and got["ContentLength"] == len(body)
    head = s3.head_object(Bucket=bucket, Key="data/train.csv")
    assert head["ContentLength"] == len(body) and head["ETag"] == put["ETag"]
    s3.delete_object(Bucket=bucket, Key="data/train.csv")
    s3.delete_object(Bucket=bucket, Key="data/train.csv")  # deleting nothing is no error
    with pytest.raises(ClientError) as missing:
        s3.get_object(Bucket=bucket, Key="data/train.csv")
    assert error_code(missing) == "NoSuchKey"
    with pytest.raises(ClientError) as head_missing:
        s3.head_object(Bucket=bucket, Key="data/train.csv")
    assert error_code(head_missing) == "404"


def test_keys_with_unusual_characters_round_trip(s3, bucket):
    keys = ["with space/a+b.csv", "ünïcode/é.txt", "percent%20literal", "q?x=1&y", "tilde~"]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    for key in keys:
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == key.encode()
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert listed == sorted(keys)


def test_ranges(s3, bucket):
    s3.put_object(Bucket=bucket, Key="r", Body=b"0123456789")

    def ranged(spec):
        return s3.get_object(Bucket=bucket, Key="r", Range=spec)

    part = ranged("bytes=2-5")
    assert part["Body"].read() == b"2345"
    assert part["ContentRange"] == "bytes 2-5/10"
    assert part["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert ranged("bytes=7-")["Body"].read() == b"789"
    assert ranged("bytes=-3")["Body"].read() == b"789"
    assert ranged("bytes=8-100")["Body"].read() == b"89"
    with pytest.raises(ClientError) as past_end:
        ranged("bytes=10-12")
    assert error_code(past_end) == "InvalidRange"
    assert past_end.value.response["ResponseMetadata"]["HTTPStatusCode"] == 416


def test_copy_object(s3, bucket, other_s3):
    s3.put_object(Bucket=bucket, Key="src/a", Body=b"copied")
    result = s3.copy_object(
        Bucket=bucket, Key="dst/b", CopySource={"Bucket": bucket, "Key": "src/a"}
    )
    assert result["CopyObjectResult"]["ETag"] == f'"{hashlib.md5(b"copied").hexdigest()}"'
    assert s3.get_object(Bucket=bucket, Key="dst/b")["Body"].read() == b"copied"
    with pytest.raises(ClientError) as missing:
        s3.copy_object(Bucket=bucket, Key="c", CopySource={"Bucket": bucket, "Key": "nothing"})
    assert error_code(missing) == "NoSuchKey"
    other_s3.create_bucket(Bucket=f"{bucket}-theirs")
    with pytest.raises(ClientError) as theirs:
        other_s3.copy_object(
            Bucket=f"{bucket}-theirs", Key="stolen", CopySource={"Bucket": bucket, "Key": "src/a"}
        )
    assert error_code(theirs) == "AccessDenied"


def test_list_objects_v2_prefix_delimiter_and_pages(s3, bucket):
    keys = [f"logs/2024/{i:02d}.txt" for i in range(5)] + ["logs/readme", "top.txt", "z/1"]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    level = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [o["Key"] for o in level["Contents"]] == ["top.txt"]
    assert [p["Prefix"] for p in level["CommonPrefixes"]] == ["logs/", "z/"]
    under = s3.list_objects_v2(Bucket=bucket, Prefix="logs/", Delimiter="/")
    assert [o["Key"] for o in under["Contents"]] == ["logs/readme"]
    assert [p["Prefix"] for p in under["CommonPrefixes"]] == ["logs/2024/"]
    first = s3.list_objects_v2(Bucket=bucket, MaxKeys=3)
    assert first["IsTruncated"] and first["KeyCount"] == 3
    rest = s3.list_objects_v2(
        Bucket=bucket, MaxKeys=100, ContinuationToken=first["NextContinuationToken"]
    )
    assert not rest["IsTruncated"]
    assert [o["Key"] for o in first["Contents"] + rest["Contents"]] == sorted(keys)
    after = s3.list_objects_v2(Bucket=bucket, StartAfter="logs/readme")
    assert [o["Key"] for o in after["Contents"]] == ["top.txt", "z/1"]
    paged = [
        o["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, PaginationConfig={"PageSize": 2}
        )
        for o in page["Contents"]
    ]
    assert paged == sorted(keys)
    assert s3.list_objects_v2(Bucket=bucket, Prefix="nothing/")["KeyCount"] == 0


def test_list_objects_v1(s3, bucket):
    for key in ["a/1", "a/2", "b", "c"]:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    page = s3.list_objects(Bucket=bucket, MaxKeys=2, Delimiter="/")
    assert page["IsTruncated"] and [p["Prefix"] for p in page["CommonPrefixes"]] == ["a/"]
    rest = s3.list_objects(Bucket=bucket, Marker=page["NextMarker"], Delimiter="/")
    assert [o["Key"] for o in rest["Contents"]] == ["c"]
    everything = [
        o["Key"]
        for page in s3.get_paginator("list_objects").paginate(
            Bucket=bucket, PaginationConfig={"PageSize": 1}
        )
        for o in page["Contents"]
    ]
    assert everything == ["a/1", "a/2", "b", "c"]


def test_delete_objects(s3, bucket):
    for key in ["a", "b", "c"]:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    result = s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": "a"}, {"Key": "b"}, {"Key": "nothing"}]}
    )
    assert sorted(d["Key"] for d in result["Deleted"]) == ["a", "b", "nothing"]
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["c"]
    quiet = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "c"}], "Quiet": True})
    assert "Deleted" not in quiet and "Errors" not in quiet


def test_multipart_upload(s3, bucket):
    first, last = b"a" * (5 * MIB), b"tail"
    upload = s3.create_multipart_upload(Bucket=bucket, Key="big/file.bin")
    upload_id = upload["UploadId"]
    tags = [
        s3.upload_part(Bucket=bucket, Key="big/file.bin", UploadId=upload_id, PartNumber=n, Body=b)[
            "ETag"
        ]
        for n, b in ((1, first), (2, last))
    ]
    listed = s3.list_parts(Bucket=bucket, Key="big/file.bin", UploadId=upload_id)
    assert [(p["PartNumber"], p["Size"], p["ETag"]) for p in listed["Parts"]] == [
        (1, len(first), tags[0]),
        (2, len(last), tags[1]),
    ]
    uploads = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert [u["UploadId"] for u in uploads] == [upload_id]
    with pytest.raises(ClientError) as unseen:
        s3.get_object(Bucket=bucket, Key="big/file.bin")
    assert error_code(unseen) == "NoSuchKey"  # nothing appears before completion
    done = s3.complete_multipart_upload(
        Bucket=bucket,
        Key="big/file.bin",
        UploadId=upload_id,
        MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": tags[0]}, {"PartNumber": 2, "ETag": tags[1]}]
        },
    )
    # S3's ETag of a multipart object: the MD5 of the parts' MD5s, and their count.
    digests = hashlib.md5(hashlib.md5(first).digest() + hashlib.md5(last).digest())
    assert done["ETag"] == f'"{digests.hexdigest()}-2"'
    assert s3.head_object(Bucket=bucket, Key="big/file.bin")["ETag"] == done["ETag"]
    assert s3.get_object(Bucket=bucket, Key="big/file.bin")["Body"].read() == first + last
    with pytest.raises(ClientError) as finished:
        s3.list_parts(Bucket=bucket, Key="big/file.bin", UploadId=upload_id)
    assert error_code(finished) == "NoSuchUpload"


def test_multipart_refusals_and_abort(s3, bucket):
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    small = s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=b"x")
    tail = s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=2, Body=b"y")

    def complete(parts):
        return s3.complete_multipart_upload(
            Bucket=bucket, Key="k", UploadId=upload_id, MultipartUpload={"Parts": parts}
        )

    with pytest.raises(ClientError) as too_small:
        complete(
            [{"PartNumber": 1, "ETag": small["ETag"]}, {"PartNumber": 2, "ETag": tail["ETag"]}]
        )
    assert error_code(too_small) == "EntityTooSmall"
    with pytest.raises(ClientError) as wrong_tag:
        complete([{"PartNumber": 1, "ETag": tail["ETag"]}])
    assert error_code(wrong_tag) == "InvalidPart"
    with pytest.raises(ClientError) as order:
        complete(
            [{"PartNumber": 2, "ETag": tail["ETag"]}, {"PartNumber": 1, "ETag": small["ETag"]}]
        )
    assert error_code(order) == "InvalidPartOrder"
    with pytest.raises(ClientError) as number:
        s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=10001, Body=b"z")
    assert error_code(number) == "InvalidArgument"
    s3.abort_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id)
    with pytest.raises(ClientError) as aborted:
        s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=3, Body=b"z")
    assert error_code(aborted) == "NoSuchUpload"
    with pytest.raises(ClientError) as bogus:
        s3.list_parts(Bucket=bucket, Key="k", UploadId="../../etc")
    assert error_code(bogus) == "NoSuchUpload"


def test_transfer_manager_upload_and_download(s3, bucket, tmp_path):
    """boto3's managed transfer (what `aws s3 cp` does): multipart up, ranged parts down."""
    from boto3.s3.transfer import TransferConfig

    data = bytes(range(256)) * (48 * 1024)  # 12 MiB
    source = tmp_path / "up.bin"
    source.write_bytes(data)
    config = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB)
    s3.upload_file(str(source), bucket, "t/up.bin", Config=config)
    target = tmp_path / "down.bin"
    s3.download_file(bucket, "t/up.bin", str(target), Config=config)
    assert target.read_bytes() == data
    buffer = io.BytesIO()
    s3.download_fileobj(bucket, "t/up.bin", buffer)
    assert buffer.getvalue() == data


def test_users_reach_only_their_own_buckets(s3, bucket, other_s3):
    s3.put_object(Bucket=bucket, Key="secret", Body=b"mine")
    assert bucket not in [b["Name"] for b in other_s3.list_buckets()["Buckets"]]
    calls = [
        lambda: other_s3.head_bucket(Bucket=bucket),
        lambda: other_s3.list_objects_v2(Bucket=bucket),
        lambda: other_s3.get_object(Bucket=bucket, Key="secret"),
        lambda: other_s3.put_object(Bucket=bucket, Key="x", Body=b"theirs"),
        lambda: other_s3.delete_object(Bucket=bucket, Key="secret"),
        lambda: other_s3.delete_bucket(Bucket=bucket),
        lambda: other_s3.create_multipart_upload(Bucket=bucket, Key="x"),
    ]
    for call in calls:
        with pytest.raises(ClientError) as denied:
            call()
        assert error_code(denied) in ("AccessDenied", "403")
    with pytest.raises(ClientError) as taken:
        other_s3.create_bucket(Bucket=bucket)
    assert error_code(taken) == "BucketAlreadyExists"
    assert s3.get_object(Bucket=bucket, Key="secret")["Body"].read() == b"mine"


def test_expected_bucket_owner(s3, bucket, user):
    from console.core.names import account_id_for

    s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=account_id_for(user.pk))
    with pytest.raises(ClientError) as other:
        s3.head_bucket(Bucket=bucket, ExpectedBucketOwner="999999999999")
    assert error_code(other) == "403"


@pytest.mark.parametrize(
    "key", ["../escape", "a/../../b", "/absolute", "a//b", "nul\x00byte", "./x"]
)
def test_path_tricks_are_refused(s3, bucket, key, settings):
    with pytest.raises(ClientError) as refused:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    # A NUL in the path is refused by the HTTP server itself, before the S3 adapter.
    assert error_code(refused) in ("InvalidArgument", "400")
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    from infra.storage import get_store

    assert [info.key for info in get_store().list(f"s3://{bucket}/")] == []


def test_unknown_operations_are_not_implemented(s3, bucket):
    with pytest.raises(ClientError) as acl:
        s3.get_bucket_acl(Bucket=bucket)
    assert error_code(acl) == "NotImplemented"
    assert acl.value.response["ResponseMetadata"]["HTTPStatusCode"] < 500
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    with pytest.raises(ClientError) as tagging:
        s3.get_object_tagging(Bucket=bucket, Key="k")
    assert error_code(tagging) == "NotImplemented"


def test_wrong_secret_and_unknown_key(live_server, access_key, bucket):
    from tests.console.s3.conftest import s3_client

    class Forged:
        access_key_id = access_key.access_key_id
        secret_access_key = "not-the-secret"

    class Unknown:
        access_key_id = "AKIAUNKNOWN000000000"
        secret_access_key = "whatever"

    with pytest.raises(ClientError) as forged:
        s3_client(live_server.url, Forged).list_objects_v2(Bucket=bucket)
    assert error_code(forged) == "SignatureDoesNotMatch"
    with pytest.raises(ClientError) as unknown:
        s3_client(live_server.url, Unknown).list_buckets()
    assert error_code(unknown) == "InvalidAccessKeyId"


def test_presigned_get_and_unsigned_requests(live_server, s3, bucket):
    import urllib.error
    import urllib.request

    s3.put_object(Bucket=bucket, Key="shared.txt", Body=b"presigned")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "shared.txt"})
    assert urllib.request.urlopen(url).read() == b"presigned"
    tampered = url.replace("shared.txt", "other.txt")
    with pytest.raises(urllib.error.HTTPError) as denied:
        urllib.request.urlopen(tampered)
    assert denied.value.code == 403 and b"SignatureDoesNotMatch" in denied.value.read()
    # An unsigned request on the same path is the console's (a browser), not S3's.
    with pytest.raises(urllib.error.HTTPError) as console:
        urllib.request.urlopen(f"{live_server.url}/{bucket}/shared.txt")
    assert console.value.code == 404 and b"<Error>" not in console.value.read()


def test_an_object_and_a_prefix_of_the_same_name_is_refused_not_a_5xx(s3, bucket):
    """The local store is a directory tree: ``a`` and ``a/b`` cannot both be objects."""
    s3.put_object(Bucket=bucket, Key="a", Body=b"file")
    with pytest.raises(ClientError) as refused:
        s3.put_object(Bucket=bucket, Key="a/b", Body=b"under")
    assert error_code(refused) == "InvalidRequest"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
