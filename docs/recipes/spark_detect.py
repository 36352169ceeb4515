"""Objects in every video of a `vms batch` manifest, from PySpark: each partition asks the service with BentoML's
client, and a video the service refuses keeps its error envelope next to it.

    python spark_detect.py http://gpu-1:3000 videos.jsonl results/     # or through spark-submit on a cluster
"""

import json
import sys

import bentoml
from pyspark.sql import SparkSession

SERVICE, MANIFEST, OUT = sys.argv[1:4]
PARAMS = {"model": "yolo11n", "frame_range": {"start": 0, "end": 100_000}, "stride": 10}


def detect(partition):
    """Manifest rows in (pandas frames), the same rows with the service's answer or error out."""
    with bentoml.SyncHTTPClient(SERVICE, timeout=600) as client:
        for rows in partition:
            results, errors = [], []
            for video in rows["video"]:
                try:
                    results.append(json.dumps(client.detect({**PARAMS, "video_path": video})))
                    errors.append(None)
                except bentoml.exceptions.BentoMLException as exc:  # its message is the service's envelope
                    results.append(None)
                    errors.append(str(exc))
            yield rows.assign(result=results, error=errors)


spark = SparkSession.builder.appName("vms-detect").getOrCreate()
videos = spark.read.json(MANIFEST).select("video")
videos.mapInPandas(detect, schema="video string, result string, error string").write.mode("overwrite").json(OUT)
spark.stop()
