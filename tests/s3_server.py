"""A real S3 API server for the tests: moto's server mode, answering HTTP on 127.0.0.1 at a free
port in a thread of the test process, so the ``earshot`` commands the tests start reach it like any
S3-compatible service (MinIO, Ceph). Stopped at the end of the session.

The credentials are moto's throwaway ones; they reach boto3 through the standard AWS environment
variables, as a deployment's would.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "earshot-test",
    "AWS_SECRET_ACCESS_KEY": "earshot-test-secret",
    "AWS_DEFAULT_REGION": "eu-west-1",
}


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str

    def new_bucket(self) -> str:
        import boto3

        name = f"earshot-{uuid.uuid4().hex[:12]}"
        client = boto3.client(
            "s3", endpoint_url=self.endpoint_url, region_name=CREDENTIALS["AWS_DEFAULT_REGION"]
        )
        client.create_bucket(
            Bucket=name, CreateBucketConfiguration={"LocationConstraint": CREDENTIALS["AWS_DEFAULT_REGION"]}
        )
        return name


@contextmanager
def running_s3_server() -> Iterator[S3Server]:
    # Imported here: moto brings Flask and more, and every process that imports the tests' conftest
    # (the queue tests spawn workers) would pay for it.
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield S3Server(f"http://{host}:{port}")
    finally:
        server.stop()
