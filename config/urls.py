"""URL routes: admin, API v1, OpenAPI schema and docs, health probe."""

from django.contrib import admin
from django.db import connection
from django.http import JsonResponse
from django.urls import include, path
from django.views.decorators.http import require_GET
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from registry.lineage.views import facet_schema


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


admin.site.site_header = "Synthetic Dataset Registry"
admin.site.site_title = "Synthetic Dataset Registry"
admin.site.index_title = "Registry administration"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("governance.api.urls")),
    path("api/v1/", include("reports.api.urls")),
    path("api/v1/", include("registry.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("openlineage/facets/<str:version>/<str:title>.json", facet_schema, name="openlineage-facet-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
]
