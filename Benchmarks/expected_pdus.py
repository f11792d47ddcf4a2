#!/usr/bin/env python3
"""The PDUs a correct reader finds in a generated capture: the truth file's total minus the PDUs of the segments
the generator dropped from the capture (FILE.lost.json, with --stress). Usage: expected_pdus.py CAPTURE"""
import json
import os
import sys

path = sys.argv[1]
total = json.load(open(path + ".truth.json"))["pdus_total"]
if os.path.exists(path + ".lost.json"):
    for segment in json.load(open(path + ".lost.json"))["lost_segments"]:
        total -= len(segment["pdus"])
print(total)
