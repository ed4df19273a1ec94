"""Page-number pagination with a caller-chosen page size, capped; a malformed size is a 400, not ignored."""

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def paginate_queryset(self, queryset, request, view=None):
        for name in (self.page_query_param, self.page_size_query_param):
            if len(request.query_params.getlist(name)) > 1:
                raise ValidationError({name: ["given more than once"]})
        return super().paginate_queryset(queryset, request, view)

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
            raise ValidationError(
                {self.page_size_query_param: ["must be a whole number of 1 or more (larger sizes are capped)"]}
            )
        return min(int(raw), self.max_page_size)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                # Larger sizes are capped, not refused: no maximum in the schema.
                parameter["schema"] = {"type": "integer", "minimum": 1}
                parameter["description"] = f"Results per page (at most {self.max_page_size}; larger values are capped)"
            elif parameter["name"] == self.page_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
        return parameters
