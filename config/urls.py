"""URL routes: admin, API v1, OpenAPI schema and docs, health probe."""

from django.contrib import admin
from django.db import connection
from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.urls import include, path, re_path
from django.views.decorators.http import require_GET
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from core.api import urls as core_api
from core.api.routers import ApiRouter
from governance.api import urls as governance_api
from registry.api import urls as registry_api
from registry.lineage.views import facet_schema
from reports.api import urls as reports_api

# One router for API v1, bottom layer first; each app serves the resources it owns.
API_APPS = (core_api, registry_api, governance_api, reports_api)
api_router = ApiRouter()
for app_api in API_APPS:
    api_router.add(routes=app_api.ROUTES, links=app_api.LINKS)


@require_GET
def healthz(request):
    """Liveness and database reachability for load balancers and orchestrators; no authentication."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any database failure means "not ready"
        return JsonResponse({"status": "unavailable", "database": type(exc).__name__}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


def moved_admin_page(request, model: str, rest: str):
    """Projects, memberships, tokens and audit events moved to the core app: old admin links still work."""
    query = request.META.get("QUERY_STRING", "")
    return HttpResponsePermanentRedirect(f"/admin/core/{model}/{rest}" + (f"?{query}" if query else ""))


admin.site.site_header = "Synthetic Dataset Registry"
admin.site.site_title = "Synthetic Dataset Registry"
admin.site.index_title = "Registry administration"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    re_path(r"^admin/governance/(?P<model>project|membership|apitoken|auditevent)/(?P<rest>.*)$", moved_admin_page),
    path("admin/", admin.site.urls),
    *[path("api/v1/", include(app_api.urlpatterns)) for app_api in API_APPS],
    path("api/v1/", include(api_router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("openlineage/facets/<str:version>/<str:title>.json", facet_schema, name="openlineage-facet-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
]
