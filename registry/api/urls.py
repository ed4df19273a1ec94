"""Routes of the registry's API v1."""

from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter(trailing_slash=True)
router.register("projects", views.ProjectViewSet, basename="project")
router.register("datasets", views.DatasetViewSet, basename="dataset")
router.register("versions", views.VersionViewSet, basename="version")
router.register("sources", views.SourceDatasetViewSet, basename="source")
router.register("generators", views.GeneratorViewSet, basename="generator")
router.register("registrations", views.RegistrationJobViewSet, basename="registration")

urlpatterns = router.urls
