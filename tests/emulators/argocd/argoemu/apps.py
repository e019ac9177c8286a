"""Applications, their workloads and the scripted timelines that change them.

Contract:
- `App` is one Argo CD Application with Deployments -> ReplicaSets -> Pods. A new app
  is Healthy and Synced, each Deployment with one ReplicaSet (Revision 1, a random
  pod-template-hash) whose pods started `created_ago` seconds before now.
- Scripts schedule timed events on an app; `App.advance(now)` applies every event
  whose time has come, in time order, so the state follows the emulator's clock
  (which tests move with /_emulator/clock instead of sleeping). Scripts:
    rollout(outcome="healthy"): at start a new sync revision, a Running operation and
      a new ReplicaSet (Revision n+1, new hash, created at start; Deployment and app
      Progressing); at start+pods_after its pods are created (ContainerCreating);
      at start+ready_after the pods run, the old ReplicaSet's pods are gone, the
      Deployment and app are Healthy and the operation Succeeded.
    rollout(outcome="stall"): the same start; the pods never become ready and the
      operation never finishes (Progressing for ever).
    rollout(outcome="degrade"): the new pods crash (Degraded, CrashLoopBackOff); at
      start+ready_after the Deployment exceeds its progress deadline: Deployment and
      app Degraded; the sync operation itself Succeeded; old pods stay.
    fail_operation: at start a Running operation; at start+ready_after it Failed and
      the app is OutOfSync; no ReplicaSet changes.
- `application_json` / `tree_json` render the shapes of GET /api/v1/applications/{name}
  and .../resource-tree (timestamps in RFC 3339 at one-second precision, as
  metav1.Time serialises).
"""

import random
import time
import uuid

HASH_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def stamp(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def new_hash(rng):
    return "".join(rng.choice(HASH_ALPHABET) for _ in range(10))


class Pod:
    def __init__(self, name, created, health, reason):
        self.name, self.created, self.health, self.reason = name, created, health, reason
        self.uid = str(uuid.uuid4())


class ReplicaSet:
    def __init__(self, deployment, hash_, revision, created):
        self.name = "%s-%s" % (deployment.name, hash_)
        self.hash, self.revision, self.created = hash_, revision, created
        self.uid = str(uuid.uuid4())
        self.pods = []


class Deployment:
    def __init__(self, name, namespace, replicas, created):
        self.name, self.namespace, self.replicas, self.created = name, namespace, replicas, created
        self.uid = str(uuid.uuid4())
        self.replicasets = []
        self.health, self.health_message = "Healthy", None

    def newest(self):
        return max(self.replicasets, key=lambda rs: rs.revision)


class App:
    def __init__(self, name, project, namespace, deployments, now, created_ago, rng):
        self.name, self.project, self.namespace = name, project, namespace
        self.rng = rng
        self.uid = str(uuid.uuid4())
        self.created = now - created_ago
        self.sync_status, self.sync_revision = "Synced", self.new_revision()
        self.health = "Healthy"
        self.reconciled_at = now
        self.operation = {"phase": "Succeeded", "message": "successfully synced (all tasks run)",
                          "startedAt": stamp(self.created), "finishedAt": stamp(self.created + 5),
                          "syncResult": {"revision": self.sync_revision}}
        self.history = [{"id": 0, "revision": self.sync_revision,
                         "deployedAt": stamp(self.created + 5)}]
        self.deployments = []
        self.events = []
        for spec in deployments:
            d = Deployment(spec["name"], namespace, int(spec.get("replicas", 2)), self.created)
            rs = ReplicaSet(d, new_hash(rng), 1, self.created)
            rs.pods = self._pods(rs, d.replicas, self.created + 1, "Healthy", "Running")
            d.replicasets.append(rs)
            self.deployments.append(d)

    def new_revision(self):
        return "%040x" % self.rng.getrandbits(160)

    def _pods(self, rs, n, created, health, reason):
        return [Pod("%s-%s" % (rs.name, "".join(self.rng.choice(HASH_ALPHABET) for _ in range(5))),
                    created, health, reason) for _ in range(n)]

    def deployment(self, name):
        if name is None:
            return self.deployments[0]
        for d in self.deployments:
            if d.name == name:
                return d
        raise KeyError("no deployment %s in app %s" % (name, self.name))

    # -- scripts ------------------------------------------------------------------------------
    def advance(self, now):
        due = sorted((e for e in self.events if e[0] <= now), key=lambda e: e[0])
        self.events = [e for e in self.events if e[0] > now]
        for at, action in due:
            action(at)

    def _schedule(self, at, action):
        self.events.append((at, action))

    def rollout(self, deployment, start, pods_after, ready_after, outcome, revision):
        if outcome not in ("healthy", "stall", "degrade"):
            raise ValueError("outcome must be healthy, stall or degrade")
        d = self.deployment(deployment)
        revision = revision or self.new_revision()
        state = {}

        def begin(at):
            self.sync_revision = revision
            self.operation = {"phase": "Running", "message": "waiting for healthy state",
                              "startedAt": stamp(at), "syncResult": {"revision": revision}}
            old = d.newest()
            rs = ReplicaSet(d, new_hash(self.rng), old.revision + 1, at)
            d.replicasets.append(rs)
            state["rs"], state["old"] = rs, old
            d.health = "Progressing"
            d.health_message = ("Waiting for rollout to finish: 0 of %d updated replicas are "
                                "available..." % d.replicas)
            self.health = "Progressing"

        def pods(at):
            bad = outcome == "degrade"
            state["rs"].pods = self._pods(state["rs"], d.replicas, at,
                                          "Degraded" if bad else "Progressing",
                                          "CrashLoopBackOff" if bad else "ContainerCreating")

        def ready(at):
            if outcome == "healthy":
                for p in state["rs"].pods:
                    p.health, p.reason = "Healthy", "Running"
                for rs in d.replicasets:
                    if rs is not state["rs"]:
                        rs.pods = []
                d.health, d.health_message = "Healthy", None
                self._finish(at, "Succeeded", "successfully synced (all tasks run)", revision)
                self.health = self._worst()
            else:  # degrade
                d.health = "Degraded"
                d.health_message = 'Deployment "%s" exceeded its progress deadline' % d.name
                self._finish(at, "Succeeded", "successfully synced (all tasks run)", revision)
                self.health = "Degraded"

        self._schedule(start, begin)
        self._schedule(start + pods_after, pods)
        if outcome != "stall":
            self._schedule(start + max(ready_after, pods_after), ready)

    def fail_operation(self, start, ready_after, message):
        def begin(at):
            self.operation = {"phase": "Running", "message": "syncing", "startedAt": stamp(at),
                              "syncResult": {"revision": self.sync_revision}}

        def fail(at):
            self.sync_status = "OutOfSync"
            self.operation = dict(self.operation, phase="Failed", message=message,
                                  finishedAt=stamp(at))

        self._schedule(start, begin)
        self._schedule(start + ready_after, fail)

    def _finish(self, at, phase, message, revision):
        self.operation = dict(self.operation, phase=phase, message=message, finishedAt=stamp(at))
        self.history.append({"id": len(self.history), "revision": revision,
                             "deployedAt": stamp(at)})

    def _worst(self):
        order = ["Healthy", "Suspended", "Progressing", "Missing", "Degraded", "Unknown"]
        return max((d.health for d in self.deployments), key=order.index, default="Healthy")

    # -- rendering ----------------------------------------------------------------------------
    def application_json(self):
        resources = [{"group": "apps", "version": "v1", "kind": "Deployment",
                      "namespace": d.namespace, "name": d.name, "status": self.sync_status,
                      "health": self._health(d.health, d.health_message)}
                     for d in self.deployments]
        images = sorted({"registry.example/%s:1" % d.name for d in self.deployments})
        return {
            "metadata": {"name": self.name, "namespace": "argocd", "uid": self.uid,
                         "creationTimestamp": stamp(self.created)},
            "spec": {"project": self.project,
                     "source": {"repoURL": "https://git.example/%s.git" % self.name,
                                "path": "deploy", "targetRevision": "HEAD"},
                     "destination": {"server": "https://kubernetes.default.svc",
                                     "namespace": self.namespace}},
            "status": {
                "sync": {"status": self.sync_status, "revision": self.sync_revision,
                         "comparedTo": {"source": {"repoURL": "https://git.example/%s.git"
                                                   % self.name, "path": "deploy"}}},
                "health": {"status": self.health},
                "operationState": self.operation,
                "reconciledAt": stamp(self.reconciled_at),
                "resources": resources,
                "summary": {"images": images},
                "history": self.history,
                "sourceType": "Directory",
            },
        }

    @staticmethod
    def _health(status, message):
        h = {"status": status}
        if message:
            h["message"] = message
        return h

    def tree_json(self):
        nodes = []
        for d in self.deployments:
            dref = {"group": "apps", "kind": "Deployment", "namespace": d.namespace,
                    "name": d.name, "uid": d.uid}
            nodes.append(dict(dref, version="v1", resourceVersion=str(len(d.replicasets) * 7),
                              health=self._health(d.health, d.health_message),
                              info=[], createdAt=stamp(d.created)))
            for rs in d.replicasets:
                rref = {"group": "apps", "kind": "ReplicaSet", "namespace": d.namespace,
                        "name": rs.name, "uid": rs.uid}
                rs_health = "Healthy" if rs.pods and all(p.health == "Healthy" for p in rs.pods) \
                    else ("Healthy" if not rs.pods else "Progressing")
                nodes.append(dict(rref, version="v1", parentRefs=[dref],
                                  info=[{"name": "Revision", "value": "Rev:%d" % rs.revision}],
                                  health={"status": rs_health}, createdAt=stamp(rs.created)))
                for p in rs.pods:
                    ready = "1/1" if p.health == "Healthy" else "0/1"
                    nodes.append({"version": "v1", "kind": "Pod", "namespace": d.namespace,
                                  "name": p.name, "uid": p.uid, "parentRefs": [rref],
                                  "info": [{"name": "Status Reason", "value": p.reason},
                                           {"name": "Containers", "value": ready}],
                                  "images": ["registry.example/%s:1" % d.name],
                                  "health": {"status": p.health},
                                  "createdAt": stamp(p.created)})
            nodes.append({"version": "v1", "kind": "Service", "namespace": d.namespace,
                          "name": d.name, "uid": str(uuid.uuid5(uuid.NAMESPACE_DNS, d.uid)),
                          "health": {"status": "Healthy"}, "createdAt": stamp(d.created),
                          "networkingInfo": {"targetLabels": {"app": d.name}}})
        return {"nodes": nodes, "orphanedNodes": [], "hosts": [], "shardsCount": 1}


def make_rng(seed=None):
    return random.Random(seed)
