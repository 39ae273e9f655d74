"""gRPC transport of the recommendation engine: protobuf in, domain calls, protobuf out."""

from __future__ import annotations

from storyverse.recommendation.v1 import recommendation_service_pb2 as pb
from storyverse.recommendation.v1 import recommendation_service_pb2_grpc as pb_grpc

from reco_svc.admin import CatalogAdmin, RegistryAdmin
from reco_svc.catalog import CatalogEntry
from reco_svc.families import TYPE as FAMILY_TYPE
from reco_svc.families import FamilyBoard
from reco_svc.goals import Goal, GoalBook
from reco_svc.request_types import ENGINE_TYPES, requested_types
from reco_svc.serving import DEFAULT_LIMIT, SCORE_DECIMALS, RecList, Recommender, Request


class RecommendationServicer(pb_grpc.RecommendationServiceServicer):
    def __init__(
        self,
        recommender: Recommender,
        catalog: CatalogAdmin,
        registry: RegistryAdmin,
        goals: GoalBook | None = None,
        families: FamilyBoard | None = None,
    ) -> None:
        self.recommender = recommender
        self.catalog = catalog
        self.registry = registry
        self.goals = goals
        self.families = families

    async def Recommend(self, request: pb.RecommendRequest, context) -> pb.RecommendResponse:
        c = request.context
        types = requested_types(request.recommendation_types, request.types)
        lists = await self.recommender.recommend(
            Request(
                user_id=request.user_id,
                age_group=c.age_group,
                types=types,
                limit=request.limit or DEFAULT_LIMIT,
                selected_universes=tuple(c.selected_universes),
                selected_characters=tuple(c.selected_characters),
                previous_themes=tuple(c.previous_themes),
                current_story_id=c.current_story_id,
                device_type=c.device_type,
            )
        )
        return pb.RecommendResponse(lists=[_list(x) for x in lists])

    async def ListRecommendations(
        self, request: pb.ListRecommendationsRequest, context
    ) -> pb.ListRecommendationsResponse:
        lists = await self.recommender.recommend(
            Request(
                user_id=request.user_id,
                age_group=request.age_group,
                types=(ENGINE_TYPES[request.kind],),  # the plural kinds; "themes": with moral lessons
                limit=request.limit or DEFAULT_LIMIT,
                selected_universes=tuple(request.selected_universes),
                selected_characters=tuple(request.selected_characters),
                previous_themes=tuple(request.previous_themes),
                current_story_id=request.current_story_id,
                device_type=request.device_type,
            )
        )
        return pb.ListRecommendationsResponse(list=_list(lists[0]))

    async def UpsertCatalogItem(self, request: pb.UpsertCatalogItemRequest, context):
        entry, created = await self.catalog.upsert(
            CatalogEntry(
                kind=request.kind,
                id=request.id,
                name=request.name,
                min_age=request.min_age,
                max_age=request.max_age,
                tags=tuple(request.tags),
                universe=request.universe,
                universes=tuple(request.universes),
                characters=tuple(request.characters),
                theme=request.theme,
                moral_lesson=request.moral_lesson,
                creator_id=request.creator_id,
            )
        )
        return pb.UpsertCatalogItemResponse(item=_item(entry), created=created)

    async def GetCatalogItem(self, request: pb.GetCatalogItemRequest, context):
        return pb.GetCatalogItemResponse(item=_item(await self.catalog.get(request.kind, request.id)))

    async def ListCatalogItems(self, request: pb.ListCatalogItemsRequest, context):
        items, token = await self.catalog.list(
            request.kind, request.age_group, request.include_hidden, request.page_size, request.page_token
        )
        return pb.ListCatalogItemsResponse(items=[_item(e) for e in items], next_page_token=token)

    async def HideCatalogItem(self, request: pb.HideCatalogItemRequest, context):
        entry = await self.catalog.hide(request.kind, request.id, request.reason)
        return pb.HideCatalogItemResponse(item=_item(entry))

    async def UnhideCatalogItem(self, request: pb.UnhideCatalogItemRequest, context):
        return pb.UnhideCatalogItemResponse(item=_item(await self.catalog.unhide(request.kind, request.id)))

    async def ListModelVersions(self, request: pb.ListModelVersionsRequest, context):
        versions = await self.registry.list(request.limit)
        return pb.ListModelVersionsResponse(
            versions=[pb.ModelVersion(**v) for v in versions], serving_version=self.registry.serving_version
        )

    async def ActivateModelVersion(self, request: pb.ActivateModelVersionRequest, context):
        return pb.ActivateModelVersionResponse(
            version=pb.ModelVersion(**await self.registry.activate(request.version))
        )

    async def RollbackModelVersion(self, request: pb.RollbackModelVersionRequest, context):
        version, previous = await self.registry.rollback()
        return pb.RollbackModelVersionResponse(version=pb.ModelVersion(**version), previous_version=previous)

    async def SetGoals(self, request: pb.SetGoalsRequest, context):
        return pb.SetGoalsResponse(
            goals=[_goal(g) for g in await self.goals.set(request.user_id, request.goals)]
        )

    async def ListGoals(self, request: pb.ListGoalsRequest, context):
        return pb.ListGoalsResponse(
            goals=[_goal(g) for g in await self.goals.list(request.user_id)],
            available=[_goal(g) for g in self.goals.available()],
        )

    async def ClearGoals(self, request: pb.ClearGoalsRequest, context):
        return pb.ClearGoalsResponse(cleared=await self.goals.clear(request.user_id))

    async def ListFamilyRecommendations(self, request: pb.ListFamilyRecommendationsRequest, context):
        found = await self.families.recommend(
            request.user_id, request.age_group, request.limit or DEFAULT_LIMIT
        )
        return pb.ListFamilyRecommendationsResponse(
            list=pb.RecommendationList(
                recommendation_type=FAMILY_TYPE,
                items=[
                    pb.RecommendedItem(
                        id=p.entry.id,
                        name=p.entry.name,
                        score=float(p.families),
                        reason=p.reason,
                        universes=list(p.entry.universe_ids),
                        min_age=p.entry.min_age,
                        max_age=p.entry.max_age,
                        kind=p.entry.kind,
                    )
                    for p in found
                ],
            )
        )

    async def GetPersonalizationOverview(self, request: pb.GetPersonalizationOverviewRequest, context):
        children, per_goal = await self.goals.overview()
        totals = await self.families.totals()
        return pb.GetPersonalizationOverviewResponse(
            children_with_goals=children,
            goals=[pb.GoalCount(goal=_goal(g), children=n) for g, n in per_goal],
            shared_stories=totals["shared"],
            family_stories=totals["recommendable"],
        )


def _goal(g: Goal) -> pb.Goal:
    return pb.Goal(id=g.id, name=g.name, kind=g.kind)


def _list(found: RecList) -> pb.RecommendationList:
    return pb.RecommendationList(
        recommendation_type="theme" if found.type == "themes" else found.type,
        model_version=found.model_version,
        variant=found.variant,
        request_id=found.request_id,
        experiment_key=found.experiment_key,
        items=[
            pb.RecommendedItem(
                id=s.entry.id,
                name=s.entry.name,
                score=round(s.score, SCORE_DECIMALS),
                reason=s.reason,
                universes=list(s.entry.universe_ids),
                min_age=s.entry.min_age,
                max_age=s.entry.max_age,
                kind=s.entry.kind,
            )
            for s in found.items
        ],
    )


def _item(e: CatalogEntry) -> pb.CatalogItem:
    return pb.CatalogItem(
        kind=e.kind,
        id=e.id,
        name=e.name,
        min_age=e.min_age,
        max_age=e.max_age,
        tags=list(e.tags),
        universe=e.universe,
        universes=list(e.universes),
        characters=list(e.characters),
        theme=e.theme,
        moral_lesson=e.moral_lesson,
        creator_id=e.creator_id,
        hidden=e.hidden,
        hidden_reason=e.hidden_reason,
        source=e.source,
        updated_at=e.updated_at,
    )
