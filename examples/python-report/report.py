#!/usr/bin/env python3
"""Report a job that this Python process runs to jobtracker, for one of your users.

Python 3 standard library only (urllib). The job API's report flow:

  1. POST /worker/jobs         creates the job for the user (idempotent per externalId) and answers
                               its report token;
  2. POST /worker/jobs/:id/progress, POST /worker/progress (many jobs at once)
                               report progress with the token as `leaseToken`;
  3. POST /worker/jobs/:id/complete (or /fail) ends it.

A write on a job its user cancelled answers 409 `job_cancelled`: this script then stops and exits 3.
Hosts that run many jobs learn of cancels at once from GET /worker/events (see docs/api.md).

Usage:
  JOBTRACKER_URL=http://localhost:8787/api JOBTRACKER_WORKER_KEY=... \\
    python3 examples/python-report/report.py --owner alice [--external-id export-42] [--steps 4]
"""

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid


class ApiError(Exception):
    """An error answer of the job API: `{ "error": { "code", "message" } }` with its HTTP status."""

    def __init__(self, status, code, message):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code


class Reporter:
    """Calls the worker API with the worker key."""

    def __init__(self, base_url, worker_key, timeout=10.0, tries=3):
        self.base_url = base_url.rstrip("/")
        self.worker_key = worker_key
        self.timeout = timeout
        self.tries = tries

    def post(self, path, body):
        data = json.dumps(body).encode("utf-8")
        for attempt in range(1, self.tries + 1):
            request = urllib.request.Request(
                self.base_url + path,
                data=data,
                method="POST",
                headers={
                    "Authorization": "Bearer " + self.worker_key,
                    "Content-Type": "application/json",
                    "Accept": "application/json",
                },
            )
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return json.loads(response.read().decode("utf-8") or "null")
            except urllib.error.HTTPError as error:
                try:
                    detail = json.loads(error.read().decode("utf-8"))["error"]
                except (ValueError, KeyError, TypeError):
                    detail = {"code": "http_error", "message": str(error)}
                # 503 (busy, database unavailable) and 429 may pass: try again; any other refusal stands.
                if error.code in (429, 503) and attempt < self.tries:
                    time.sleep(0.2 * attempt)
                    continue
                raise ApiError(error.code, detail.get("code"), detail.get("message")) from None
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                # The server is down or restarting. Every write here may be sent again: the create is
                # idempotent through externalId, and progress never goes down.
                if attempt == self.tries:
                    raise
                time.sleep(0.2 * attempt)

    def create(self, owner, job_type, title, external_id):
        return self.post(
            "/worker/jobs",
            {
                "owner": owner,
                "type": job_type,
                "title": title,
                "externalId": external_id,
                "status": "running",
            },
        )

    def progress(self, job_id, token, progress, message):
        return self.post(
            f"/worker/jobs/{job_id}/progress",
            {"leaseToken": token, "progress": progress, "message": message},
        )

    def progress_many(self, updates):
        """Many jobs' progress in one request: each result is `{id, version}` or `{id, error}`."""
        return self.post("/worker/progress", {"updates": updates})["results"]

    def complete(self, job_id, token, result):
        return self.post(f"/worker/jobs/{job_id}/complete", {"leaseToken": token, "result": result})

    def fail(self, job_id, token, message, code=None):
        error = {"message": message}
        if code:
            error["code"] = code
        return self.post(f"/worker/jobs/{job_id}/fail", {"leaseToken": token, "error": error})


def main(argv=None):
    parser = argparse.ArgumentParser(description="Report a job this process runs to jobtracker.")
    parser.add_argument("--url", default=os.environ.get("JOBTRACKER_URL", "http://localhost:8787/api"))
    parser.add_argument("--key", default=os.environ.get("JOBTRACKER_WORKER_KEY"))
    parser.add_argument("--owner", required=True, help="the user the job belongs to (their tokens' sub)")
    parser.add_argument("--external-id", default=None, help="your own id of the work (default: a new one)")
    parser.add_argument("--type", default="report.python")
    parser.add_argument("--title", default="Export from Python")
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--step-ms", type=int, default=100)
    args = parser.parse_args(argv)
    if not args.key:
        parser.error("the worker key is needed: --key or JOBTRACKER_WORKER_KEY")

    reporter = Reporter(args.url, args.key)
    external_id = args.external_id or "py-" + uuid.uuid4().hex
    answer = reporter.create(args.owner, args.type, args.title, external_id)
    job, token = answer["job"], answer["reportToken"]
    if token is None:
        print(f"Job {job['id']} is the user's own ({job['status']}): nothing to report.", flush=True)
        return 2
    print(f"Reporting job {job['id']} for {args.owner} ({'created' if answer['created'] else 'resumed'})", flush=True)

    try:
        for step in range(1, args.steps + 1):
            time.sleep(args.step_ms / 1000)
            percent = round(step * 100 / (args.steps + 1), 1)
            message = f"Step {step} of {args.steps}"
            if step % 2 == 0:
                # The batch route, as a host reporting many jobs at once would.
                [result] = reporter.progress_many(
                    [{"id": job["id"], "leaseToken": token, "progress": percent, "message": message}]
                )
                if "error" in result:
                    error = result["error"]
                    raise ApiError(error["status"], error["code"], error["message"])
            else:
                reporter.progress(job["id"], token, percent, message)
            print(f"{percent}% {message}", flush=True)
        done = reporter.complete(job["id"], token, {"steps": args.steps, "externalId": external_id})
    except ApiError as error:
        if error.code == "job_cancelled":
            print(f"Job {job['id']} was cancelled by its user: stopped.", flush=True)
            return 3
        raise
    print(f"Completed job {done['job']['id']}: {done['job']['status']}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
