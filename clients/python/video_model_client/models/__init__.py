"""Contains all the data models used in inputs/outputs"""

from .augment_request import AugmentRequest
from .augment_response import AugmentResponse
from .b_box import BBox
from .confidence_source import ConfidenceSource
from .detect_request import DetectRequest
from .detect_request_class_thresholds_type_0 import DetectRequestClassThresholdsType0
from .detect_response import DetectResponse
from .detected_object import DetectedObject
from .error_response import ErrorResponse
from .error_response_details import ErrorResponseDetails
from .existing_ontology import ExistingOntology
from .export_request import ExportRequest
from .export_request_format import ExportRequestFormat
from .export_video import ExportVideo
from .frame_detections import FrameDetections
from .frame_range import FrameRange
from .health_response import HealthResponse
from .health_response_jobs import HealthResponseJobs
from .health_response_runners import HealthResponseRunners
from .health_response_runners_additional_property import HealthResponseRunnersAdditionalProperty
from .health_response_status import HealthResponseStatus
from .initial_detection import InitialDetection
from .job_list import JobList
from .job_progress import JobProgress
from .job_response import JobResponse
from .job_response_request import JobResponseRequest
from .job_response_status import JobResponseStatus
from .job_response_task import JobResponseTask
from .job_result_format_type_0 import JobResultFormatType0
from .job_submit import JobSubmit
from .job_submit_request import JobSubmitRequest
from .job_submit_task import JobSubmitTask
from .key_frame import KeyFrame
from .list_jobs_status_type_0 import ListJobsStatusType0
from .list_jobs_task_type_0 import ListJobsTaskType0
from .load_response import LoadResponse
from .model_description import ModelDescription
from .model_description_weights import ModelDescriptionWeights
from .model_request import ModelRequest
from .models_info_response import ModelsInfoResponse
from .models_info_response_available_models import ModelsInfoResponseAvailableModels
from .models_info_response_models import ModelsInfoResponseModels
from .models_info_response_selected_models import ModelsInfoResponseSelectedModels
from .ontology_suggestions import OntologySuggestions
from .persona import Persona
from .persona_ontology_context_type_1 import PersonaOntologyContextType1
from .post_validation import PostValidation
from .post_validation_dropped import PostValidationDropped
from .post_validation_removed import PostValidationRemoved
from .post_validation_repaired import PostValidationRepaired
from .relationship_suggestion import RelationshipSuggestion
from .render_request import RenderRequest
from .render_request_format import RenderRequestFormat
from .rle_mask import RLEMask
from .role_suggestion import RoleSuggestion
from .summarize_request import SummarizeRequest
from .summarize_request_complexity_metric import SummarizeRequestComplexityMetric
from .summarize_request_sampling_strategy import SummarizeRequestSamplingStrategy
from .summarize_response import SummarizeResponse
from .track import Track
from .track_box import TrackBox
from .track_request import TrackRequest
from .track_request_interpolation import TrackRequestInterpolation
from .track_response import TrackResponse
from .type_suggestion import TypeSuggestion
from .unload_response import UnloadResponse
from .unload_response_status import UnloadResponseStatus
from .video_meta import VideoMeta

__all__ = (
    "AugmentRequest",
    "AugmentResponse",
    "BBox",
    "ConfidenceSource",
    "DetectedObject",
    "DetectRequest",
    "DetectRequestClassThresholdsType0",
    "DetectResponse",
    "ErrorResponse",
    "ErrorResponseDetails",
    "ExistingOntology",
    "ExportRequest",
    "ExportRequestFormat",
    "ExportVideo",
    "FrameDetections",
    "FrameRange",
    "HealthResponse",
    "HealthResponseJobs",
    "HealthResponseRunners",
    "HealthResponseRunnersAdditionalProperty",
    "HealthResponseStatus",
    "InitialDetection",
    "JobList",
    "JobProgress",
    "JobResponse",
    "JobResponseRequest",
    "JobResponseStatus",
    "JobResponseTask",
    "JobResultFormatType0",
    "JobSubmit",
    "JobSubmitRequest",
    "JobSubmitTask",
    "KeyFrame",
    "ListJobsStatusType0",
    "ListJobsTaskType0",
    "LoadResponse",
    "ModelDescription",
    "ModelDescriptionWeights",
    "ModelRequest",
    "ModelsInfoResponse",
    "ModelsInfoResponseAvailableModels",
    "ModelsInfoResponseModels",
    "ModelsInfoResponseSelectedModels",
    "OntologySuggestions",
    "Persona",
    "PersonaOntologyContextType1",
    "PostValidation",
    "PostValidationDropped",
    "PostValidationRemoved",
    "PostValidationRepaired",
    "RelationshipSuggestion",
    "RenderRequest",
    "RenderRequestFormat",
    "RLEMask",
    "RoleSuggestion",
    "SummarizeRequest",
    "SummarizeRequestComplexityMetric",
    "SummarizeRequestSamplingStrategy",
    "SummarizeResponse",
    "Track",
    "TrackBox",
    "TrackRequest",
    "TrackRequestInterpolation",
    "TrackResponse",
    "TypeSuggestion",
    "UnloadResponse",
    "UnloadResponseStatus",
    "VideoMeta",
)
