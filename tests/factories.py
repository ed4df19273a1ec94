"""factory_boy factories for test setup (they write rows directly; the code under test uses services)."""

import factory
from django.contrib.auth import get_user_model

from core.models import Membership, Project
from registry.models import Dataset, DatasetVersion, Generator, SourceDataset, VersionSource


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery staple")


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project
        django_get_or_create = ["slug"]

    slug = factory.Sequence(lambda n: f"project-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.title())


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    project = factory.SubFactory(ProjectFactory)
    user = factory.SubFactory(UserFactory)
    role = "pipeline"


class SourceDatasetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SourceDataset

    project = factory.SubFactory(ProjectFactory)
    namespace = "postgres://warehouse:5432"
    name = factory.Sequence(lambda n: f"public.customers_{n}")


class GeneratorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Generator

    project = factory.SubFactory(ProjectFactory)
    name = "sdv.GaussianCopulaSynthesizer"
    version = factory.Sequence(lambda n: f"1.{n}")


class DatasetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Dataset

    project = factory.SubFactory(ProjectFactory)
    name = factory.Sequence(lambda n: f"dataset-{n}")


class DatasetVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DatasetVersion
        skip_postgeneration_save = True

    dataset = factory.SubFactory(DatasetFactory)
    number = factory.Sequence(lambda n: n + 1)
    fingerprint = factory.Sequence(lambda n: f"{n:064x}")
    fingerprint_source = "computed"
    schema = factory.LazyFunction(lambda: [{"name": "age", "dtype": "int64", "sdtype": "numerical"}])
    schema_hash = "0" * 64
    row_count = 10
    column_count = 1
    byte_count = 100
    format = "csv"
    generator = factory.SubFactory(GeneratorFactory, project=factory.SelfAttribute("..dataset.project"))
    registered_by = factory.SubFactory(UserFactory)

    @factory.post_generation
    def sources(self, create, extracted, **kwargs):
        if create and extracted:
            for source in extracted:
                VersionSource.objects.create(version=self, source=source)
