"""pandas_handler.py: the kind of Python Lambda handler ddb-to-s3 replaces.

Written for make bench from the seed's description (a pandas DataFrame per
stream record, every cell turned to str, to_csv into a buffer, put_object),
so its speed and memory can be set beside the C pipeline's.  Unlike the seed
it keeps every record of the batch (the seed keeps only the last one), so it
does the same amount of work as the pipeline.  The S3 upload is stubbed.

usage: python3 pandas_handler.py EVENT.json [INVOCATIONS]
Prints to stderr: rows written, and the handler's time per warm invocation.
"""
import json
import sys
import time
from datetime import datetime
from io import StringIO

import pandas as pd


class StubS3:
    """Takes the object instead of uploading it."""

    def __init__(self):
        self.objects = {}

    def put_object(self, Bucket, Key, Body):
        self.objects[(Bucket, Key)] = Body
        return {"ETag": '"stub"'}


s3 = StubS3()


def image_row(image):
    # the seed's way: the value under the type descriptor, as it is
    row = {}
    for name, typed in image.items():
        for _type, value in typed.items():
            row[name] = value
    return row


def record_frame(record):
    event = record["eventName"]
    ddb = record["dynamodb"]
    print("Handling %s: " % event, record)
    if event == "INSERT":
        frame = pd.DataFrame([image_row(ddb["NewImage"])])
        frame["EventType"] = "INSERT"
    elif event == "MODIFY":
        new = pd.DataFrame([image_row(ddb["NewImage"])])
        new["EventType"] = "INSERT"
        old = pd.DataFrame([image_row(ddb["OldImage"])])
        old["EventType"] = "REMOVE"
        frame = pd.concat([old, new], ignore_index=True)
    elif event == "REMOVE":
        frame = pd.DataFrame([image_row(ddb["OldImage"])])
        frame["EventType"] = "REMOVE"
    else:
        return None
    frame["created_at"] = ddb["ApproximateCreationDateTime"]
    return frame


def lambda_handler(event, context):
    print(event)
    frames = []
    table = None
    for record in event["Records"]:
        table = record["eventSourceARN"].split("/")[1]
        frame = record_frame(record)
        if frame is not None:
            frames.append(frame)
    rows = 0
    if frames:
        df = pd.concat(frames, ignore_index=True)
        df = df.astype(str)
        buf = StringIO()
        df.to_csv(buf, index=False)
        key = "staging/%s/%s_%s.csv" % (table, table, datetime.now())
        s3.put_object(Bucket="bench-bucket", Key=key, Body=buf.getvalue())
        rows = len(df)
    print("Successfully processed %d records." % len(event["Records"]))
    return rows


def main():
    if len(sys.argv) not in (2, 3):
        sys.stderr.write("usage: pandas_handler.py EVENT.json [INVOCATIONS]\n")
        sys.exit(2)
    runs = int(sys.argv[2]) if len(sys.argv) == 3 else 1
    with open(sys.argv[1], "rb") as f:
        raw = f.read()
    times = []
    rows = 0
    for _ in range(runs):
        t0 = time.perf_counter()
        # the runtime parses the event before the handler runs: billed too
        rows = lambda_handler(json.loads(raw), None)
        times.append(time.perf_counter() - t0)
    warm = sorted(times[1:] or times)
    sys.stderr.write("rows %d first %.6f warm_median %.6f\n"
                     % (rows, times[0], warm[len(warm) // 2]))


if __name__ == "__main__":
    main()
