"""The `/v3/...` routes: Confluent REST Proxy v3 paths for topics, records and consumer groups.

Handlers are plain `def` functions, so FastAPI runs them in its thread pool and blocking engine
calls never stall the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request, Response

from clusterapi import service
from clusterapi.errors import (
    INTERNAL_TOPIC,
    READ_ONLY,
    ClusterApiError,
    ErrorBodyResponses,
    translate,
)
from clusterapi.fastpaths import browse_fast
from clusterapi.links import Links
from clusterapi.models import (
    MAX_JSON_INT,
    MAX_TOPIC_NAME,
    AlterConfigBatchRequest,
    ClusterData,
    ClusterDataList,
    CollectionMetadata,
    ConsumerAssignmentDataList,
    ConsumerData,
    ConsumerDataList,
    ConsumerGroupData,
    ConsumerGroupDataList,
    ConsumerGroupLagSummaryData,
    ConsumerLagData,
    ConsumerLagDataList,
    CreateTopicRequest,
    OffsetResetDataList,
    PartitionData,
    PartitionDataList,
    ProduceRequest,
    ProduceResponse,
    RecordDataList,
    ResetOffsetsRequest,
    TopicConfigData,
    TopicConfigDataList,
    TopicData,
    TopicDataList,
    UpdateConfigRequest,
    UpdatePartitionCountRequest,
)
from clusterapi.pages import browse
from engine.cluster import Cluster
from engine.topics import internal_topic_risk
from httpapi import Closer, RouteTable, ServerSettings, shaped_router
from httpapi.fastpath import install_fast_paths

routes = RouteTable()


@dataclass(frozen=True)
class AdminContext:
    """What the routes serve: the cluster, and whether changes are refused."""

    cluster: Cluster
    readonly: bool = False


def build_router(max_request_bytes: int) -> APIRouter:
    """The `/v3` routes; they read the `AdminContext` that `mount` keeps on the app."""
    router = shaped_router(
        translate=translate,
        max_body_bytes=max_request_bytes,
        prefix="/v3",
        responses=ErrorBodyResponses,
    )
    return routes.add_to(router)


def mount(app: FastAPI, cluster: Cluster, settings: ServerSettings) -> list[Closer]:
    """Serve the cluster admin API at `/v3` over `cluster`; nothing to close."""
    app.state.cluster_admin = AdminContext(cluster, readonly=settings.readonly)
    router = build_router(settings.max_request_bytes)
    app.include_router(router)
    install_fast_paths(app, router, {browse_records: browse_fast})
    return []


ClusterId = Annotated[str, Path(min_length=1, max_length=255)]
TopicName = Annotated[str, Path(min_length=1, max_length=MAX_TOPIC_NAME)]
PartitionId = Annotated[int, Path(ge=0, le=2**31 - 1)]
GroupId = Annotated[str, Path(min_length=1, max_length=1024)]
ConfigName = Annotated[str, Path(min_length=1, max_length=255)]


async def get_cluster(request: Request) -> Cluster:
    """The cluster the application serves (async: FastAPI runs a plain `def` dependency in
    its thread pool, a second thread hop per request)."""
    context: AdminContext = request.app.state.cluster_admin
    return context.cluster


async def writable(request: Request) -> None:
    """Refuse changes when the server runs read-only."""
    if request.app.state.cluster_admin.readonly:
        raise ClusterApiError(READ_ONLY, "this server is read-only; changes are disabled")


def internal_guard(action: str) -> object:
    """A dependency refusing `action` on an internal topic unless `internal=true` is given."""

    async def guard(
        topic_name: TopicName,
        internal: Annotated[
            bool,
            Query(
                description="Allow the change on an internal topic ('_' prefix: a state log "
                "such as _schemas), losing or breaking the state it holds."
            ),
        ] = False,
    ) -> None:
        risk = internal_topic_risk(topic_name, action)
        if risk is not None and not internal:
            raise ClusterApiError(INTERNAL_TOPIC, f"{risk}; add ?internal=true to do it anyway")

    return Depends(guard)


ClusterDep = Annotated[Cluster, Depends(get_cluster)]
Writable = Depends(writable)
GuardDelete = internal_guard("delete")
GuardReconfigure = internal_guard("reconfigure")


def links_for(request: Request, cluster: Cluster, cluster_id: str) -> Links:
    """Link builder for a request on a served cluster (404 for any other cluster id)."""
    service.check_cluster(cluster, cluster_id)
    return Links(str(request.base_url), cluster_id)


# -- clusters ------------------------------------------------------------------------------


@routes.get("/clusters", response_model=ClusterDataList, tags=["Cluster (v3)"])
def list_clusters(request: Request, cluster: ClusterDep) -> ClusterDataList:
    """The one cluster this server serves."""
    links = Links(str(request.base_url), cluster.name)
    return ClusterDataList(
        kind="KafkaClusterList",
        metadata=CollectionMetadata(self=f"{str(request.base_url).rstrip('/')}/v3/clusters"),
        data=[service.cluster_data(links)],
    )


@routes.get("/clusters/{cluster_id}", response_model=ClusterData, tags=["Cluster (v3)"])
def get_cluster_resource(
    request: Request, cluster: ClusterDep, cluster_id: ClusterId
) -> ClusterData:
    """The cluster with this id."""
    return service.cluster_data(links_for(request, cluster, cluster_id))


# -- topics --------------------------------------------------------------------------------


@routes.get("/clusters/{cluster_id}/topics", response_model=TopicDataList, tags=["Topic (v3)"])
def list_topics(request: Request, cluster: ClusterDep, cluster_id: ClusterId) -> TopicDataList:
    """Every topic of the cluster."""
    links = links_for(request, cluster, cluster_id)
    return TopicDataList(
        kind="KafkaTopicList",
        metadata=links.collection("topics"),
        data=service.list_topics(cluster, links),
    )


@routes.post(
    "/clusters/{cluster_id}/topics",
    response_model=TopicData,
    status_code=201,
    tags=["Topic (v3)"],
    dependencies=[Writable],
)
def create_topic(
    request: Request, cluster: ClusterDep, cluster_id: ClusterId, body: CreateTopicRequest
) -> TopicData:
    """Create a topic."""
    links = links_for(request, cluster, cluster_id)
    return service.create_topic(cluster, links, body)


@routes.get(
    "/clusters/{cluster_id}/topics/{topic_name}", response_model=TopicData, tags=["Topic (v3)"]
)
def get_topic(
    request: Request, cluster: ClusterDep, cluster_id: ClusterId, topic_name: TopicName
) -> TopicData:
    """One topic."""
    links = links_for(request, cluster, cluster_id)
    return service.topic_data(links, cluster.describe_topic(topic_name))


@routes.patch(
    "/clusters/{cluster_id}/topics/{topic_name}",
    response_model=TopicData,
    tags=["Topic (v3)"],
    dependencies=[Writable, GuardReconfigure],
)
def update_partition_count(
    request: Request,
    cluster: ClusterDep,
    cluster_id: ClusterId,
    topic_name: TopicName,
    body: UpdatePartitionCountRequest,
) -> TopicData:
    """Grow the topic's partition count."""
    links = links_for(request, cluster, cluster_id)
    return service.grow_partitions(cluster, links, topic_name, body.partitions_count)


@routes.delete(
    "/clusters/{cluster_id}/topics/{topic_name}",
    status_code=204,
    response_class=Response,
    tags=["Topic (v3)"],
    dependencies=[Writable, GuardDelete],
)
def delete_topic(
    request: Request, cluster: ClusterDep, cluster_id: ClusterId, topic_name: TopicName
) -> Response:
    """Delete a topic and its records."""
    links_for(request, cluster, cluster_id)
    cluster.delete_topic(topic_name)
    return Response(status_code=204)


# -- partitions ----------------------------------------------------------------------------


@routes.get(
    "/clusters/{cluster_id}/topics/{topic_name}/partitions",
    response_model=PartitionDataList,
    tags=["Partition (v3)"],
)
def list_partitions(
    request: Request, cluster: ClusterDep, cluster_id: ClusterId, topic_name: TopicName
) -> PartitionDataList:
    """The topic's partitions with their offset ranges."""
    links = links_for(request, cluster, cluster_id)
    description = cluster.describe_topic(topic_name)
    return PartitionDataList(
        kind="KafkaPartitionList",
        metadata=links.collection("topics", topic_name, "partitions"),
        data=[service.partition_data(links, topic_name, p) for p in description.partitions],
    )


@routes.get(
    "/clusters/{cluster_id}/topics/{topic_name}/partitions/{partition_id}",
    response_model=PartitionData,
    tags=["Partition (v3)"],
)
def get_partition(
    request: Request,
    cluster: ClusterDep,
    cluster_id: ClusterId,
    topic_name: TopicName,
    partition_id: PartitionId,
) -> PartitionData:
    """One partition."""
    links = links_for(request, cluster, cluster_id)
    info = service.find_partition(cluster.describe_topic(topic_name), partition_id)
    return service.partition_data(links, topic_name, info)


@routes.get(
    "/clusters/{cluster_id}/topics/{topic_name}/partitions/{partition_id}/records",
    response_model=RecordDataList,
    tags=["Records (streamgov addition)"],
)
def browse_records(
    request: Request,
    cluster: ClusterDep,
    cluster_id: ClusterId,
    topic_name: TopicName,
    partition_id: PartitionId,
    offset: Annotated[int | None, Query(ge=0, le=MAX_JSON_INT)] = None,
    timestamp: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    position: Annotated[Literal["earliest", "latest"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_RECORDS_PAGE)] = 100,
) -> Response:
    """Read a page of records from an offset, a timestamp, or the start or end of the partition.

    A streamgov addition to the REST Proxy v3 API: give at most one of `offset`, `timestamp`
    (ISO-8601 or epoch milliseconds) and `position` (`earliest`, the default, or `latest` for
    the last `limit` records). Offsets outside the partition are clamped into it.
    """
    page = browse(
        cluster,
        str(request.base_url),
        cluster_id,
        topic_name,
        partition_id,
        offset=offset,
        timestamp=timestamp,
        position=position,
        limit=limit,
    )
    # Built without a model per record (see clusterapi/pages.py); documented by the model.
    return Response(page, media_type="application/json")


# -- configs -------------------------------------------------------------------------------


@routes.get(
    "/clusters/{cluster_id}/topics/{topic_name}/configs",
    response_model=TopicConfigDataList,
    tags=["Configs (v3)"],
)
def list_topic_configs(
    request: Request, cluster: ClusterDep, cluster_id: ClusterId, topic_name: TopicName
) -> TopicConfigDataList:
    """The topic's effective configuration."""
    links = links_for(request, cluster, cluster_id)
    return TopicConfigDataList(
        kind="KafkaTopicConfigList",
        metadata=links.collection("topics", topic_name, "configs"),
        data=service.list_configs(cluster, links, topic_name),
    )


@routes.post(
    "/clusters/{cluster_id}/topics/{topic_name}/configs:alter",
    status_code=204,
    response_class=Response,
    tags=["Configs (v3)"],
    dependencies=[Writable, GuardReconfigure],
)
def alter_topic_configs(
    request: Request,
    cluster: ClusterDep,
    cluster_id: ClusterId,
    topic_name: TopicName,
    body: AlterConfigBatchRequest,
) -> Response:
    """Set or reset (operation DELETE) several config keys at once."""
    links_for(request, cluster, cluster_id)
    service.alter_configs(cluster, topic_name, service.alter_updates(body.data), body.validate_only)
    return Response(status_code=204)


@routes.get(
    "/clusters/{cluster_id}/topics/{topic_name}/configs/{name}",
    response_model=TopicConfigData,
    tags=["Configs (v3)"],
)
def get_topic_config(
    request: Request,
    cluster: ClusterDep,
    cluster_id: ClusterId,
    topic_name: TopicName,
    name: ConfigName,
) -> TopicConfigData:
    """One config key of the topic."""
    links = links_for(request, cluster, cluster_id)
    return service.get_config(cluster, links, topic_name, name)


@routes.put(
    "/clusters/{cluster_id}/topics/{topic_name}/configs/{name}",
    status_code=204,
    response_class=Response,
    tags=["Configs (v3)"],
    dependencies=[Writable, GuardReconfigure],
)
def update_topic_config(
    request: Request,
    cluster: ClusterDep,
    cluster_id: ClusterId,
    topic_name: TopicName,
    name: ConfigName,
    body: UpdateConfigRequest,
) -> Response:
    """Set one config key."""
    links_for(request, cluster, cluster_id)
    if body.value is None:
        raise ClusterApiError(400, f"config {name}: 'value' is required (DELETE resets a key)")
    cluster.alter_topic_config(topic_name, {name: body.value})
    return Response(status_code=204)


@routes.delete(
    "/clusters/{cluster_id}/topics/{topic_name}/configs/{name}",
    status_code=204,
    response_class=Response,
    tags=["Configs (v3)"],
    dependencies=[Writable, GuardReconfigure],
)
def reset_topic_config(
    request: Request,
    cluster: ClusterDep,
    cluster_id: ClusterId,
    topic_name: TopicName,
    name: ConfigName,
) -> Response:
    """Reset one config key to its default."""
    links_for(request, cluster, cluster_id)
    cluster.alter_topic_config(topic_name, {name: None})
    return Response(status_code=204)


# -- produce -------------------------------------------------------------------------------


@routes.post(
    "/clusters/{cluster_id}/topics/{topic_name}/records",
    response_model=ProduceResponse,
    tags=["Records (v3)"],
    dependencies=[Writable],
)
def produce_record(
    request: Request,
    cluster: ClusterDep,
    cluster_id: ClusterId,
    topic_name: TopicName,
    body: ProduceRequest,
) -> ProduceResponse:
    """Produce one record (key and value as BINARY, JSON or STRING)."""
    links_for(request, cluster, cluster_id)
    return service.produce(cluster, cluster_id, topic_name, body)


# -- consumer groups -----------------------------------------------------------------------


@routes.get(
    "/clusters/{cluster_id}/consumer-groups",
    response_model=ConsumerGroupDataList,
    tags=["Consumer Group (v3)"],
)
def list_groups(
    request: Request, cluster: ClusterDep, cluster_id: ClusterId
) -> ConsumerGroupDataList:
    """Every consumer group with members or committed offsets."""
    links = links_for(request, cluster, cluster_id)
    return ConsumerGroupDataList(
        kind="KafkaConsumerGroupList",
        metadata=links.collection("consumer-groups"),
        data=service.list_groups(cluster, links),
    )


@routes.get(
    "/clusters/{cluster_id}/consumer-groups/{consumer_group_id}",
    response_model=ConsumerGroupData,
    tags=["Consumer Group (v3)"],
)
def get_group(
    request: Request, cluster: ClusterDep, cluster_id: ClusterId, consumer_group_id: GroupId
) -> ConsumerGroupData:
    """One consumer group."""
    links = links_for(request, cluster, cluster_id)
    return service.group_data(links, service.describe_group(cluster, consumer_group_id))


@routes.get(
    "/clusters/{cluster_id}/consumer-groups/{consumer_group_id}/consumers",
    response_model=ConsumerDataList,
    tags=["Consumer Group (v3)"],
)
def list_consumers(
    request: Request, cluster: ClusterDep, cluster_id: ClusterId, consumer_group_id: GroupId
) -> ConsumerDataList:
    """The group's live members."""
    links = links_for(request, cluster, cluster_id)
    group = service.describe_group(cluster, consumer_group_id)
    return ConsumerDataList(
        kind="KafkaConsumerList",
        metadata=links.collection("consumer-groups", consumer_group_id, "consumers"),
        data=service.consumer_data(links, group),
    )


@routes.get(
    "/clusters/{cluster_id}/consumer-groups/{consumer_group_id}/consumers/{consumer_id}",
    response_model=ConsumerData,
    tags=["Consumer Group (v3)"],
)
def get_consumer(
    request: Request,
    cluster: ClusterDep,
    cluster_id: ClusterId,
    consumer_group_id: GroupId,
    consumer_id: Annotated[str, Path(min_length=1, max_length=1024)],
) -> ConsumerData:
    """One member of the group."""
    links = links_for(request, cluster, cluster_id)
    group = service.describe_group(cluster, consumer_group_id)
    for consumer in service.consumer_data(links, group):
        if consumer.consumer_id == consumer_id:
            return consumer
    raise ClusterApiError(
        404, f"Consumer {consumer_id} could not be found in group {consumer_group_id}."
    )


@routes.get(
    "/clusters/{cluster_id}/consumer-groups/{consumer_group_id}/consumers/{consumer_id}/assignments",
    response_model=ConsumerAssignmentDataList,
    tags=["Consumer Group (v3)"],
)
def list_assignments(
    request: Request,
    cluster: ClusterDep,
    cluster_id: ClusterId,
    consumer_group_id: GroupId,
    consumer_id: Annotated[str, Path(min_length=1, max_length=1024)],
) -> ConsumerAssignmentDataList:
    """The partitions assigned to one member."""
    links = links_for(request, cluster, cluster_id)
    group = service.describe_group(cluster, consumer_group_id)
    return ConsumerAssignmentDataList(
        kind="KafkaConsumerAssignmentList",
        metadata=links.collection(
            "consumer-groups", consumer_group_id, "consumers", consumer_id, "assignments"
        ),
        data=service.assignment_data(links, group, consumer_id),
    )


@routes.get(
    "/clusters/{cluster_id}/consumer-groups/{consumer_group_id}/lags",
    response_model=ConsumerLagDataList,
    tags=["Consumer Group (v3)"],
)
def list_lags(
    request: Request, cluster: ClusterDep, cluster_id: ClusterId, consumer_group_id: GroupId
) -> ConsumerLagDataList:
    """The group's lag on every partition it has committed offsets for."""
    links = links_for(request, cluster, cluster_id)
    group = service.describe_group(cluster, consumer_group_id)
    return ConsumerLagDataList(
        kind="KafkaConsumerLagList",
        metadata=links.collection("consumer-groups", consumer_group_id, "lags"),
        data=[
            service.lag_data(links, consumer_group_id, lag)
            for lag in service.group_lags(cluster, group)
        ],
    )


@routes.get(
    "/clusters/{cluster_id}/consumer-groups/{consumer_group_id}/lags/{topic_name}/partitions/{partition_id}",
    response_model=ConsumerLagData,
    tags=["Consumer Group (v3)"],
)
def get_lag(
    request: Request,
    cluster: ClusterDep,
    cluster_id: ClusterId,
    consumer_group_id: GroupId,
    topic_name: TopicName,
    partition_id: PartitionId,
) -> ConsumerLagData:
    """The group's lag on one partition."""
    links = links_for(request, cluster, cluster_id)
    group = service.describe_group(cluster, consumer_group_id)
    for lag in service.group_lags(cluster, group):
        if lag.topic == topic_name and lag.partition == partition_id:
            return service.lag_data(links, consumer_group_id, lag)
    raise ClusterApiError(
        404,
        f"Consumer group {consumer_group_id} has no committed offset on "
        f"{topic_name}-{partition_id}.",
    )


@routes.get(
    "/clusters/{cluster_id}/consumer-groups/{consumer_group_id}/lag-summary",
    response_model=ConsumerGroupLagSummaryData,
    tags=["Consumer Group (v3)"],
)
def get_lag_summary(
    request: Request, cluster: ClusterDep, cluster_id: ClusterId, consumer_group_id: GroupId
) -> ConsumerGroupLagSummaryData:
    """Total lag of the group and where it lags most."""
    links = links_for(request, cluster, cluster_id)
    group = service.describe_group(cluster, consumer_group_id)
    return service.lag_summary(links, consumer_group_id, service.group_lags(cluster, group))


@routes.post(
    "/clusters/{cluster_id}/consumer-groups/{consumer_group_id}/offsets:reset",
    response_model=OffsetResetDataList,
    tags=["Consumer Group (streamgov addition)"],
    dependencies=[Writable],
)
def reset_offsets(
    request: Request,
    cluster: ClusterDep,
    cluster_id: ClusterId,
    consumer_group_id: GroupId,
    body: ResetOffsetsRequest,
) -> OffsetResetDataList:
    """Move the group's committed offsets (refused while the group has live members).

    A streamgov addition to the REST Proxy v3 API; see docs/rest-v3.md.
    """
    links = links_for(request, cluster, cluster_id)
    plan = service.reset_offsets(cluster, consumer_group_id, body)
    return OffsetResetDataList(
        kind="KafkaConsumerGroupOffsetResetList",
        metadata=CollectionMetadata(
            self=f"{links.url('consumer-groups', consumer_group_id)}/offsets:reset"
        ),
        consumer_group_id=consumer_group_id,
        validate_only=body.validate_only,
        data=plan,
    )
